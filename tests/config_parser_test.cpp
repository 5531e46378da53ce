// The configuration grammar of SPEC §2: every rule, every error with its line and column.
#include "config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

namespace k8psh {
namespace {

using Vars = std::map<std::string, std::string>;

EnvLookup fake_env(Vars vars) {
    return [vars = std::move(vars)](const std::string &name) -> std::optional<std::string> {
        if (auto it = vars.find(name); it != vars.end()) {
            return it->second;
        }
        return std::nullopt;
    };
}

Config parse(std::string_view text, const Vars &vars = {}) {
    return parse_config(text, "test.conf", fake_env(vars));
}

// The argv of the only command of a one-section config whose command line is `c WORDS`.
std::vector<std::string> words_of(const std::string &words, const Vars &vars = {}) {
    const Config config = parse("[s]\nc " + words + "\n", vars);
    EXPECT_EQ(config.servers.size(), 1u);
    return config.servers.at(0).commands.at(0).argv;
}

std::string word_of(const std::string &word, const Vars &vars = {}) {
    const std::vector<std::string> argv = words_of(word, vars);
    EXPECT_EQ(argv.size(), 1u) << word;
    return argv.empty() ? std::string() : argv[0];
}

// Asserts that `text` fails at LINE:COL with a message containing `message`.
void expect_error(std::string_view text, int line, int column, const std::string &message) {
    try {
        parse(text);
        ADD_FAILURE() << "no error for: " << text;
    } catch (const ConfigError &error) {
        EXPECT_EQ(error.line, line) << error.what();
        EXPECT_EQ(error.column, column) << error.what();
        const std::string expected_prefix = "test.conf:" + std::to_string(line) + ":" + std::to_string(column) + ": ";
        EXPECT_EQ(std::string(error.what()).rfind(expected_prefix, 0), 0u) << error.what();
        EXPECT_NE(std::string(error.what()).find(message), std::string::npos) << error.what();
    }
}

// --- strings ---

TEST(ConfigStrings, UnquotedWordsEndAtWhitespace) {
    EXPECT_EQ(words_of("a b\tc"), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ConfigStrings, DoubleQuotedEscapes) {
    EXPECT_EQ(word_of(R"("a b")"), "a b");
    EXPECT_EQ(word_of(R"("\"")"), "\"");
    EXPECT_EQ(word_of(R"("x""y")"), "x\"y");
    EXPECT_EQ(word_of(R"("\\")"), "\\");
    EXPECT_EQ(word_of(R"("\'")"), "'");
    EXPECT_EQ(word_of(R"("\b\t\n\f\r")"), "\b\t\n\f\r");
    EXPECT_EQ(word_of(R"("a\0b")"), std::string("a\0b", 3));
    EXPECT_EQ(word_of(R"("")"), "");
}

TEST(ConfigStrings, HexEscapesIncludingLowerCase) {
    EXPECT_EQ(word_of(R"("\x4a")"), "J");
    EXPECT_EQ(word_of(R"("\x4A")"), "J");
    EXPECT_EQ(word_of(R"("\x6a\x6B")"), "jk");
    EXPECT_EQ(word_of(R"("\xff\x00\x9e")"), std::string("\xff\0\x9e", 3));
    EXPECT_EQ(word_of(R"("\x41BC")"), "ABC");
}

TEST(ConfigStrings, SingleQuotedIsLiteral) {
    EXPECT_EQ(word_of("'a b \\n \"'"), "a b \\n \"");
    EXPECT_EQ(word_of("'it''s'"), "it's");
    EXPECT_EQ(word_of("''"), "");
    EXPECT_EQ(word_of("'#'"), "#");
}

TEST(ConfigStrings, PiecesJoinUntilWhitespaceOrComment) {
    EXPECT_EQ(word_of(R"(a"b c"'d e'f)"), "ab cd ef");
    EXPECT_EQ(words_of("a#b c"), (std::vector<std::string>{"a"}));
    EXPECT_EQ(words_of("a # b"), (std::vector<std::string>{"a"}));
    EXPECT_EQ(word_of("\"#\""), "#");
}

TEST(ConfigStrings, LoadTimeExpansionOutsideSingleQuotes) {
    const Vars vars = {{"A", "va"}, {"EMPTY", ""}};
    EXPECT_EQ(word_of("${A}", vars), "va");
    EXPECT_EQ(word_of("x${A}y", vars), "xvay");
    EXPECT_EQ(word_of("\"${A} b\"", vars), "va b");
    EXPECT_EQ(word_of("'${A}'", vars), "${A}");
    EXPECT_EQ(word_of("${A}'${A}'\"${A}\"", vars), "va${A}va");
    EXPECT_EQ(word_of("${UNSET}", vars), "");
    EXPECT_EQ(word_of("${UNSET:-dflt}", vars), "dflt");
    EXPECT_EQ(word_of("${A:-dflt}", vars), "va");
    EXPECT_EQ(word_of("${EMPTY:-dflt}", vars), "");  // `:-` applies only when unset
    EXPECT_EQ(word_of("\"${UNSET:-two words}\"", vars), "two words");
}

TEST(ConfigStrings, WhatIsNotAReferenceStaysLiteral) {
    const Vars vars = {{"A", "va"}};
    EXPECT_EQ(word_of("$A", vars), "$A");
    EXPECT_EQ(word_of("${A", vars), "${A");
    EXPECT_EQ(word_of("${A:x}", vars), "${A:x}");
    EXPECT_EQ(word_of("${A:-x", vars), "${A:-x");
    EXPECT_EQ(word_of("${A/b}${A}", vars), "${A/b}va");
}

TEST(ConfigStrings, ExpansionSeesDecodedDoubleQuotedText) {
    // Upstream expands each run of unquoted and double-quoted text after decoding it.
    const Vars vars = {{"A", "va"}};
    EXPECT_EQ(word_of(R"($"{A}")", vars), "va");
    EXPECT_EQ(word_of(R"("\x24{A}")", vars), "va");
}

TEST(ConfigStrings, Comments) {
    const Config config = parse(
        "# leading comment\n"
        "baseDirectory = /b # trailing\n"
        "   # indented\n"
        "[s] # after a section\n"
        "# between commands\n"
        "c # after a command\n");
    EXPECT_EQ(config.base_directory, "/b");
    ASSERT_EQ(config.servers.size(), 1u);
    EXPECT_EQ(config.servers[0].commands.size(), 1u);
    EXPECT_TRUE(config.servers[0].options.empty());
}

TEST(ConfigStrings, CarriageReturnLineEndings) {
    const Config config = parse("baseDirectory = /b\r\n[s]\r\nc x\r\n");
    EXPECT_EQ(config.base_directory, "/b");
    EXPECT_EQ(config.servers.at(0).commands.at(0).argv, (std::vector<std::string>{"x"}));
}

// --- common settings ---

TEST(ConfigSettings, Defaults) {
    const Config config = parse("");
    EXPECT_EQ(config.path, "test.conf");
    EXPECT_EQ(config.base_directory, "");
    EXPECT_EQ(config.connect_timeout_ms, 30000);
    EXPECT_FALSE(config.key_directory.has_value());
    EXPECT_TRUE(config.servers.empty());
}

TEST(ConfigSettings, AllKeys) {
    const Config config = parse(
        "baseDirectory = ${WS:-.}\n"
        "connectTimeoutMs=-1\n"
        "keyDirectory = \"/k e y\"\n",
        {{"WS", "/ws"}});
    EXPECT_EQ(config.base_directory, "/ws");
    EXPECT_EQ(config.connect_timeout_ms, -1);
    EXPECT_EQ(config.key_directory, "/k e y");
    EXPECT_EQ(parse("baseDirectory = ${WS:-.}").base_directory, ".");
    EXPECT_EQ(parse("connectTimeoutMs = 250").connect_timeout_ms, 250);
}

TEST(ConfigSettings, ConnectionReuse) {
    EXPECT_EQ(parse("").connection_reuse_ms, 30000);
    EXPECT_EQ(parse("connectionReuseMs = 0").connection_reuse_ms, 0);
    EXPECT_EQ(parse("connectionReuseMs = 120000").connection_reuse_ms, 120000);
    expect_error("connectionReuseMs = on", 1, 21, "invalid connectionReuseMs \"on\": expecting an integer");
}

TEST(ConfigSettings, OlderWorkingDirectoryNameAndLastWins) {
    EXPECT_EQ(parse("workingDirectory = rel/dir").base_directory, "rel/dir");
    EXPECT_EQ(parse("workingDirectory = a\nbaseDirectory = b").base_directory, "b");
    EXPECT_EQ(parse("baseDirectory =").base_directory, "");
}

TEST(ConfigSettings, Errors) {
    expect_error("baseDirectory = /b\n  badoption = value", 2, 3, "unrecognized configuration key \"badoption\"");
    expect_error("gcc\n[s]\ngcc", 1, 4, "expecting = after \"gcc\"");
    expect_error("baseDirectory = bad value", 1, 21, "expecting end of line, but found \"value\"");
    expect_error("connectTimeoutMs = 10s", 1, 20, "invalid connectTimeoutMs \"10s\"");
    expect_error("connectTimeoutMs = ", 1, 20, "invalid connectTimeoutMs \"\"");
    expect_error("connectTimeoutMs = 99999999999999999999999", 1, 20, "invalid connectTimeoutMs");
}

// --- sections ---

TEST(ConfigSections, SequentialPortsFrom1120) {
    const Config config = parse("[a]\nx\n[b]\ny\n[c:2000]\nz\n[d]\nw\n");
    ASSERT_EQ(config.servers.size(), 4u);
    EXPECT_EQ(config.servers[0].name, "a");
    EXPECT_EQ(config.servers[0].port, 1120);
    EXPECT_EQ(config.servers[1].port, 1121);
    EXPECT_EQ(config.servers[2].name, "c");
    EXPECT_EQ(config.servers[2].port, 2000);
    EXPECT_EQ(config.servers[3].port, 2001);
}

TEST(ConfigSections, NamesMayBeQuotedOrSpaced) {
    const Config config = parse("[ blah:1895 ]\nx\n['blah 2']\ny\n[\"q]\"]\nz\n");
    ASSERT_EQ(config.servers.size(), 3u);
    EXPECT_EQ(config.servers[0].name, "blah");
    EXPECT_EQ(config.servers[1].name, "blah 2");
    EXPECT_EQ(config.servers[1].port, 1896);
    EXPECT_EQ(config.servers[2].name, "q]");
}

TEST(ConfigSections, EnvironmentEntriesThenOptions) {
    const Config config = parse(
        "[gcc] A=1 ?B= =C= --timeout=100 -m 4 X=y # comment\n"
        "cc D=2 gcc -O2\n"
        "ld\n");
    const ServerSection &gcc = config.servers.at(0);
    EXPECT_EQ(gcc.options, (std::vector<std::string>{"--timeout=100", "-m", "4", "X=y"}));
    const Command &cc = gcc.commands.at(0);
    ASSERT_EQ(cc.env.size(), 4u);
    EXPECT_EQ(cc.env[0].name, "A");
    EXPECT_EQ(cc.env[1].name, "B");
    EXPECT_EQ(cc.env[1].rule, EnvRule::ClientDefaultOrServer);
    EXPECT_EQ(cc.env[2].name, "C");
    EXPECT_EQ(cc.env[2].rule, EnvRule::Server);
    EXPECT_EQ(cc.env[3].name, "D");
    EXPECT_EQ(cc.argv, (std::vector<std::string>{"gcc", "-O2"}));
    EXPECT_EQ(gcc.commands.at(1).env.size(), 3u);
}

TEST(ConfigSections, OptionsOnly) {
    const Config config = parse("[k8pshTest] --max-connections 4 --ignore-invalid-arguments ignoredConfigArg\nx\n");
    EXPECT_EQ(config.servers.at(0).options,
              (std::vector<std::string>{"--max-connections", "4", "--ignore-invalid-arguments", "ignoredConfigArg"}));
}

TEST(ConfigSections, SectionsWithoutCommandsAreDroppedButTakeAPort) {
    const Config config = parse("[empty]\n[full]\nx\n[DontDoThis] --ignored\n# nothing\n");
    ASSERT_EQ(config.servers.size(), 1u);
    EXPECT_EQ(config.servers[0].name, "full");
    EXPECT_EQ(config.servers[0].port, 1121);
    EXPECT_EQ(config.find_server("empty"), nullptr);
    EXPECT_EQ(config.find_server("DontDoThis"), nullptr);
}

TEST(ConfigSections, Errors) {
    expect_error("[s]\nx\n[s]\ny", 3, 2, "duplicate server section \"s\" (first at line 1)");
    expect_error("[s]\n[ s:1300 ]\ny", 2, 3, "duplicate server section \"s\"");
    expect_error("[a]\nx\n[b]\nx", 4, 1, "duplicate command \"x\" (first defined at line 2)");
    expect_error("[a]\nx\n  x y", 3, 3, "duplicate command \"x\"");
    expect_error("[ blah:65536 ]", 1, 3, "port out of range: 65536");
    expect_error("[blah:0]", 1, 2, "port out of range: 0");
    expect_error("[blah:99999999999999999999]", 1, 2, "port out of range");
    expect_error("[a:65535]\nx\n[b]\ny", 3, 2, "port out of range: 65536");
    expect_error("[ blah:65_36 ]", 1, 3, "invalid port number \"65_36\"");
    expect_error("[blah:]", 1, 2, "invalid port number \"\"");
    expect_error("[:1200]", 1, 2, "expecting a server name before the port");
    expect_error("baseDirectory=${PATH}\n[\nblah]", 2, 2, "expecting a server name, but found \"\"");
    expect_error("[ ]", 1, 3, "expecting a server name, but found \"]\"");
    expect_error("[blah\n]", 1, 6, "expecting ] to close the server section, but found \"\"");
    expect_error("[blah x]", 1, 7, "expecting ] to close the server section, but found \"x]\"");
}

// --- commands ---

TEST(ConfigCommands, NameOnlyRunsItself) {
    const Config config = parse("[s]\ngcc\n");
    const Command &gcc = config.servers.at(0).commands.at(0);
    EXPECT_EQ(gcc.name, "gcc");
    EXPECT_EQ(gcc.argv, (std::vector<std::string>{"gcc"}));
    EXPECT_TRUE(gcc.env.empty());
    EXPECT_EQ(gcc.line, 2);
}

TEST(ConfigCommands, EntriesThenExecutableThenArgs) {
    const Config config = parse("[s]\n\n  run A=1 ?B=two =C= =D=x=y /bin/exe A=arg --x=y\n");
    const Command &run = config.servers.at(0).commands.at(0);
    EXPECT_EQ(run.line, 3);
    ASSERT_EQ(run.env.size(), 4u);
    EXPECT_EQ(run.env[0].rule, EnvRule::ClientOrDefault);
    EXPECT_EQ(run.env[0].name, "A");
    EXPECT_EQ(run.env[0].value, "1");
    EXPECT_EQ(run.env[1].rule, EnvRule::ClientDefaultOrServer);
    EXPECT_EQ(run.env[1].value, "two");
    EXPECT_EQ(run.env[2].rule, EnvRule::Server);
    EXPECT_EQ(run.env[2].name, "C");
    EXPECT_EQ(run.env[2].value, "");
    EXPECT_EQ(run.env[3].rule, EnvRule::Server);
    EXPECT_EQ(run.env[3].name, "D");
    EXPECT_EQ(run.env[3].value, "x=y");
    EXPECT_EQ(run.argv, (std::vector<std::string>{"/bin/exe", "A=arg", "--x=y"}));
}

TEST(ConfigCommands, EntriesOnlyRunTheName) {
    const Config config = parse("[s]\ngradle ?GRADLE_USER_HOME= ?GRADLE_OPTS=\n");
    const Command &gradle = config.servers.at(0).commands.at(0);
    EXPECT_EQ(gradle.env.size(), 2u);
    EXPECT_EQ(gradle.argv, (std::vector<std::string>{"gradle"}));
}

TEST(ConfigCommands, EntryValues) {
    const Config config = parse(
        "[s]\nc A=b=c \"B=x y\" =LD='${LD}':. ?P='${Q:-d}'${Q} =E==\n", {{"Q", "q"}, {"LD", "load"}});
    const std::vector<EnvEntry> &env = config.servers.at(0).commands.at(0).env;
    ASSERT_EQ(env.size(), 5u);
    EXPECT_EQ(env[0].value, "b=c");
    EXPECT_EQ(env[1].name, "B");
    EXPECT_EQ(env[1].value, "x y");
    EXPECT_EQ(env[2].name, "LD");
    EXPECT_EQ(env[2].value, "${LD}:.");  // single-quoted: kept for per-request expansion
    EXPECT_EQ(env[3].value, "${Q:-d}q");
    EXPECT_EQ(env[4].name, "E");
    EXPECT_EQ(env[4].value, "=");
}

TEST(ConfigCommands, WordsWithoutEqualsAfterTheFirstCharacterStartTheArgv) {
    // `=x` has no `=` after its first character, and an empty word is never an entry.
    EXPECT_EQ(parse("[s]\nc =x A=1\n").servers.at(0).commands.at(0).argv, (std::vector<std::string>{"=x", "A=1"}));
    EXPECT_EQ(parse("[s]\nc '' A=1\n").servers.at(0).commands.at(0).argv, (std::vector<std::string>{"", "A=1"}));
}

TEST(ConfigCommands, FindCommandAndServer) {
    const Config config = parse("[a]\nx\n[b:3000]\ny\nz\n");
    const ServerSection *section = nullptr;
    const Command *z = config.find_command("z", &section);
    ASSERT_NE(z, nullptr);
    EXPECT_EQ(z->name, "z");
    ASSERT_NE(section, nullptr);
    EXPECT_EQ(section->name, "b");
    EXPECT_EQ(config.find_command("x")->name, "x");
    EXPECT_EQ(config.find_command("nope"), nullptr);
    EXPECT_EQ(config.find_server("b")->port, 3000);
    EXPECT_EQ(config.find_server("c"), nullptr);
}

TEST(ConfigCommands, Errors) {
    expect_error("[s]\n'' exe", 2, 1, "empty command name");
    expect_error("[s]\n  ../escaped sh", 2, 3, "command name \"../escaped\" is not a file name");
    expect_error("[s]\nc\n  bin/gcc", 3, 3, "command name \"bin/gcc\" is not a file name");
    expect_error("[s]\n/usr/bin/gcc", 2, 1, "is not a file name");
    expect_error("[s]\n.", 2, 1, "command name \".\" is not a file name");
    expect_error("[s]\n  \"..\" x", 2, 3, "command name \"..\" is not a file name");
    expect_error("[s]\nc A=1 ?=x", 2, 7, "empty environment variable name in \"?=x\"");
    expect_error("[s] ==x\nc", 1, 5, "empty environment variable name");
    expect_error("[s]\nc x\"y", 2, 4, "unterminated double-quoted string");
    expect_error("[s]\nc 'x\ny", 2, 3, "unterminated single-quoted string");
    expect_error("[s]\nc \"a\\", 2, 3, "unterminated double-quoted string");
    expect_error("[s]\nc \"ab\\k\"", 2, 6, "unrecognized escape sequence \\k");
    expect_error("[s]\nc \"\\xg1\"", 2, 4, "invalid \\x escape");
    expect_error("[s]\nc \"\\x1\"", 2, 4, "invalid \\x escape");
    expect_error(std::string_view("[s]\nc a\0b", 9), 2, 4, "NUL byte in configuration");
}

// --- upstream's files, written out here ---

// k8psh_example.conf as upstream ships it (current version).
constexpr std::string_view kUpstreamExample = R"conf(# K8PSH Configuration

# The configuration is divided into 2 sections: common settings and server settings.
# Configuration strings can be of the following forms: value, "value", or 'value'. (Unquoted values cannot contain whitespace.)
# Double quoted strings can contain escape sequences: \" (alternate ""), \\, \', \b, \t, \n, \f, \r, \0, \x9e.
# Single quoted strings only have one escape sequence: ''

# Common Settings
baseDirectory = ${WORKSPACE:-.} # This will set the base directory to the value of the environment variable WORKSPACE

# Server Settings
[ gcc ] --disable-client-executables # Additional server arguments may be specified if desired.
gcc
g++

[ java ]
java ?LD_LIBRARY_PATH= =LD_LIBRARY_PATH='${LD_LIBRARY_PATH}':. /lib/ld-linux-x86-64.so.2 /usr/bin/java # JNI testing example

[ gradle ]
gradle ?GRADLE_USER_HOME= ?GRADLE_OPTS= # No executable specified, so 'gradle' will be called
javac

[ make ]
make

[ DontDoThis ] --this-argument-will-not-be-processed
# Any server listed without any commands is ignored even if the name matches.
)conf";

TEST(ConfigUpstream, ExampleConf) {
    const Config config = parse(kUpstreamExample, {{"LD_LIBRARY_PATH", "/ignored/at/load"}});
    EXPECT_EQ(config.base_directory, ".");
    EXPECT_EQ(parse(kUpstreamExample, {{"WORKSPACE", "/ws"}}).base_directory, "/ws");
    ASSERT_EQ(config.servers.size(), 4u);

    const ServerSection &gcc = config.servers[0];
    EXPECT_EQ(gcc.name, "gcc");
    EXPECT_EQ(gcc.port, 1120);
    EXPECT_EQ(gcc.options, (std::vector<std::string>{"--disable-client-executables"}));
    ASSERT_EQ(gcc.commands.size(), 2u);
    EXPECT_EQ(gcc.commands[0].argv, (std::vector<std::string>{"gcc"}));
    EXPECT_EQ(gcc.commands[1].name, "g++");

    const ServerSection &java = config.servers[1];
    EXPECT_EQ(java.port, 1121);
    const Command &jv = java.commands.at(0);
    ASSERT_EQ(jv.env.size(), 2u);
    EXPECT_EQ(jv.env[0].rule, EnvRule::ClientDefaultOrServer);
    EXPECT_EQ(jv.env[0].name, "LD_LIBRARY_PATH");
    EXPECT_EQ(jv.env[0].value, "");
    EXPECT_EQ(jv.env[1].rule, EnvRule::Server);
    EXPECT_EQ(jv.env[1].value, "${LD_LIBRARY_PATH}:.");
    EXPECT_EQ(jv.argv, (std::vector<std::string>{"/lib/ld-linux-x86-64.so.2", "/usr/bin/java"}));

    const ServerSection &gradle = config.servers[2];
    EXPECT_EQ(gradle.port, 1122);
    EXPECT_EQ(gradle.commands.at(0).argv, (std::vector<std::string>{"gradle"}));
    EXPECT_EQ(gradle.commands.at(0).env.size(), 2u);
    EXPECT_EQ(gradle.commands.at(1).name, "javac");

    EXPECT_EQ(config.servers[3].name, "make");
    EXPECT_EQ(config.servers[3].port, 1123);
    EXPECT_EQ(config.find_server("DontDoThis"), nullptr);
}

// The previous version of the example: workingDirectory and bare `NAME=` entries.
TEST(ConfigUpstream, OlderExampleConf) {
    const Config config = parse(
        "workingDirectory = ${WORKSPACE:-.} # relative to the config file\n"
        "[ gcc ]\ngcc\ng++\n\n"
        "[ java ]\njava =LD_LIBRARY_PATH= /lib/ld-linux-x86-64.so.2 /usr/bin/java\n\n"
        "[ gradle ]\ngradle ?GRADLE_USER_HOME= ?GRADLE_OPTS=\njavac\n\n"
        "[ make ]\nmake\n");
    EXPECT_EQ(config.base_directory, ".");
    ASSERT_EQ(config.servers.size(), 4u);
    EXPECT_EQ(config.servers[3].port, 1123);
    const Command &java = config.servers[1].commands.at(0);
    ASSERT_EQ(java.env.size(), 1u);
    EXPECT_EQ(java.env[0].rule, EnvRule::Server);
    EXPECT_EQ(java.env[0].name, "LD_LIBRARY_PATH");
    EXPECT_EQ(java.argv.size(), 2u);
}

// test/config/k8s.conf, both versions (section-wide entry, and the older per-command one).
TEST(ConfigUpstream, K8sConf) {
    const Config config = parse("baseDirectory = ../..\n\n[server] =K8PSH_TEST=\nprintenv\npwd\nuname\n");
    EXPECT_EQ(config.base_directory, "../..");
    ASSERT_EQ(config.servers.size(), 1u);
    EXPECT_EQ(config.servers[0].name, "server");
    EXPECT_EQ(config.servers[0].port, 1120);
    EXPECT_TRUE(config.servers[0].options.empty());
    ASSERT_EQ(config.servers[0].commands.size(), 3u);
    for (const Command &command : config.servers[0].commands) {
        ASSERT_EQ(command.env.size(), 1u);
        EXPECT_EQ(command.env[0].rule, EnvRule::Server);
        EXPECT_EQ(command.env[0].name, "K8PSH_TEST");
        EXPECT_EQ(command.argv, std::vector<std::string>{command.name});
    }

    const Config older = parse("baseDirectory = ../..\n\n[server]\nprintenv =K8PSH_TEST=\npwd\nuname\n");
    EXPECT_EQ(older.servers.at(0).commands.at(0).env.size(), 1u);
    EXPECT_TRUE(older.servers.at(0).commands.at(1).env.empty());
}

// The configuration upstream's end-to-end test (k8pshTest.cxx) writes.
TEST(ConfigUpstream, EndToEndTestConf) {
    const Config config = parse(
        "baseDirectory = .\n"
        "[k8pshTest] --generate-local-executables --max-connections 4 --timeout 8000 "
        "--ignore-invalid-arguments ignoredConfigArg\n"
        "'0_k8pshTest' K8PSH_TEST_NAME= PATH= '/opt/bin/k8pshTest' 0\n"
        "'1_k8pshTest' K8PSH_TEST_NAME= =PATH= '/opt/bin/k8pshTest' 1\n"
        "'2_k8pshTest' K8PSH_TEST_NAME= ?PATH= '/opt/bin/k8pshTest' 2\n"
        "'3_k8pshTest' K8PSH_TEST_NAME= ?PATH= '/opt/bin/k8pshTest' 3\n");
    const ServerSection &server = config.servers.at(0);
    EXPECT_EQ(server.port, 1120);
    EXPECT_EQ(server.options.size(), 7u);
    ASSERT_EQ(server.commands.size(), 4u);
    const EnvRule rules[] = {EnvRule::ClientOrDefault, EnvRule::Server, EnvRule::ClientDefaultOrServer,
                             EnvRule::ClientDefaultOrServer};
    for (int i = 0; i < 4; ++i) {
        const Command &command = server.commands[i];
        EXPECT_EQ(command.name, std::to_string(i) + "_k8pshTest");
        ASSERT_EQ(command.env.size(), 2u);
        EXPECT_EQ(command.env[0].name, "K8PSH_TEST_NAME");
        EXPECT_EQ(command.env[1].name, "PATH");
        EXPECT_EQ(command.env[1].rule, rules[i]);
        EXPECT_EQ(command.argv, (std::vector<std::string>{"/opt/bin/k8pshTest", std::to_string(i)}));
    }
}

// upstream's ConfigurationTest.cxx good configuration. Its `blah` is defined in two sections,
// which SPEC §2 makes an error; with the second one renamed it parses as upstream's did.
constexpr std::string_view kUpstreamTestConf =
    "workingDirectory = ${TEST_ENV_1}/${TEST_ENV_2} # The directory that all relative working directories will be based on\n"
    "\n"
    "# Test comment\n"
    "[empty]\n"
    "\n"
    "[ blah:1895 ] # section tags are strings, so spaces can be inside []\n"
    "blah A= ?B= test blah-real 'First Arg' \"\\\"Escaped\\\"\\tArg \"\"\"\n"
    "some_exe theExe\n"
    "['blah 2']\n"
    "BLAH ENV= # Only name is required";

TEST(ConfigUpstream, ConfigurationTestConf) {
    const Config config = parse(kUpstreamTestConf, {{"TEST_ENV_1", "blah"}, {"TEST_ENV_2", "blah2"}});
    EXPECT_EQ(config.base_directory, "blah/blah2");
    ASSERT_EQ(config.servers.size(), 2u);
    const ServerSection &blah = config.servers[0];
    EXPECT_EQ(blah.name, "blah");
    EXPECT_EQ(blah.port, 1895);
    const Command &cmd = blah.commands.at(0);
    ASSERT_EQ(cmd.env.size(), 2u);
    EXPECT_EQ(cmd.env[0].name, "A");
    EXPECT_EQ(cmd.env[1].name, "B");
    EXPECT_EQ(cmd.env[1].rule, EnvRule::ClientDefaultOrServer);
    EXPECT_EQ(cmd.argv, (std::vector<std::string>{"test", "blah-real", "First Arg", "\"Escaped\"\tArg \""}));
    EXPECT_EQ(blah.commands.at(1).argv, (std::vector<std::string>{"theExe"}));
    EXPECT_EQ(config.servers[1].name, "blah 2");
    EXPECT_EQ(config.servers[1].port, 1896);
    EXPECT_EQ(config.servers[1].commands.at(0).env.at(0).name, "ENV");
    EXPECT_EQ(config.servers[1].commands.at(0).argv, (std::vector<std::string>{"BLAH"}));

    std::string as_upstream(kUpstreamTestConf);
    as_upstream.replace(as_upstream.find("BLAH"), 4, "blah");
    expect_error(as_upstream, 10, 1, "duplicate command \"blah\" (first defined at line 7)");
}

// upstream's ConfigurationTest.cxx bad configurations: each is an error here too.
TEST(ConfigUpstream, ConfigurationTestBadConfs) {
    expect_error("badoption=value", 1, 1, "unrecognized configuration key \"badoption\"");
    expect_error("workingDirectory=bad value", 1, 22, "expecting end of line");
    expect_error("workingDirectory=\"good val\tue\" extra\n# This is the second line", 1, 32, "expecting end of line");
    expect_error("workingDirectory=\"bad value", 1, 18, "unterminated double-quoted string");
    expect_error("workingDirectory=\"bad value\\k\"", 1, 28, "unrecognized escape sequence \\k");
    expect_error("workingDirectory='bad value", 1, 18, "unterminated single-quoted string");
    expect_error("workingDirectory=${PATH}\n[\nblah]", 2, 2, "expecting a server name");
    expect_error("workingDirectory=${PATH}\n[ blah:65536 ]", 2, 3, "port out of range");
    expect_error("workingDirectory=${PATH}\n[ blah:65_36 ]", 2, 3, "invalid port number");
    expect_error("workingDirectory=${PATH}\n[blah\n]", 2, 6, "expecting ] to close the server section");
}

// --- load_config: the only I/O, on a temporary directory ---

class ConfigLoad : public ::testing::Test {
protected:
    void SetUp() override {
        std::string pattern = (std::filesystem::temp_directory_path() / "k8psh-config-XXXXXX").string();
        ASSERT_NE(mkdtemp(pattern.data()), nullptr);
        dir_ = std::filesystem::canonical(pattern);
        std::filesystem::create_directories(dir_ / "conf" / "sub");
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::string write(const std::string &text) {
        const std::string path = (dir_ / "conf" / "k8psh.conf").string();
        std::ofstream(path) << text;
        return path;
    }

    std::filesystem::path dir_;
};

TEST_F(ConfigLoad, BaseDirectoryDefaultsToTheConfigDirectory) {
    const Config config = load_config(write("[s]\nx\n"));
    EXPECT_EQ(config.base_directory, (dir_ / "conf").string());
    EXPECT_EQ(config.servers.size(), 1u);
}

TEST_F(ConfigLoad, RelativeBaseDirectoryIsResolvedAgainstTheConfigDirectory) {
    EXPECT_EQ(load_config(write("baseDirectory = ..\n")).base_directory, dir_.string());
    EXPECT_EQ(load_config(write("baseDirectory = sub/\n")).base_directory, (dir_ / "conf" / "sub").string());
    EXPECT_EQ(load_config(write("baseDirectory = not/yet/there\n")).base_directory,
              (dir_ / "conf" / "not" / "yet" / "there").string());
}

TEST_F(ConfigLoad, AbsoluteBaseDirectoryIsKept) {
    EXPECT_EQ(load_config(write("baseDirectory = /nonexistent/k8psh//ws/\n")).base_directory, "/nonexistent/k8psh/ws");
}

TEST_F(ConfigLoad, ExpandsTheProcessEnvironment) {
    ::setenv("K8PSH_TEST_CONFIG_DIR", "/from/env", 1);
    EXPECT_EQ(load_config(write("baseDirectory = ${K8PSH_TEST_CONFIG_DIR}\n")).base_directory, "/from/env");
    ::unsetenv("K8PSH_TEST_CONFIG_DIR");
    EXPECT_EQ(process_env()("K8PSH_TEST_CONFIG_DIR"), std::nullopt);
}

TEST_F(ConfigLoad, ErrorsNameTheFile) {
    const std::string missing = (dir_ / "missing.conf").string();
    try {
        load_config(missing);
        ADD_FAILURE() << "no error";
    } catch (const ConfigError &error) {
        EXPECT_EQ(std::string(error.what()), missing + ": cannot read: No such file or directory");
        EXPECT_EQ(error.line, 0);
    }
    EXPECT_THROW(load_config(dir_.string()), ConfigError);
    const std::string path = write("[s]\nx\n[t]\nx\n");
    try {
        load_config(path);
        ADD_FAILURE() << "no error";
    } catch (const ConfigError &error) {
        EXPECT_EQ(std::string(error.what()).rfind(path + ":4:1: duplicate command", 0), 0u) << error.what();
    }
}

}  // namespace
}  // namespace k8psh
