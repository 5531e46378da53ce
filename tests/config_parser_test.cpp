// The configuration grammar (README: Configuration): every rule, every error with its line and column.
#include "config.h"

#include <gtest/gtest.h>

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
    const Config config = parse("[runner] --max-connections 4 --ignore-invalid-arguments strayWord\nx\n");
    EXPECT_EQ(config.servers.at(0).options,
              (std::vector<std::string>{"--max-connections", "4", "--ignore-invalid-arguments", "strayWord"}));
}

TEST(ConfigSections, SectionsWithoutCommandsAreDroppedButTakeAPort) {
    const Config config = parse("[empty]\n[full]\nx\n[NoCommands] --ignored\n# nothing\n");
    ASSERT_EQ(config.servers.size(), 1u);
    EXPECT_EQ(config.servers[0].name, "full");
    EXPECT_EQ(config.servers[0].port, 1121);
    EXPECT_EQ(config.find_server("empty"), nullptr);
    EXPECT_EQ(config.find_server("NoCommands"), nullptr);
}

// A name listed twice is accepted as upstream does: the later definition wins everywhere, and
// the parser leaves one warning naming both places.
TEST(ConfigSections, CommandListedTwiceLaterWins) {
    const Config across = parse("[a]\nx one\n[b]\nx two\n");
    const ServerSection *section = nullptr;
    const Command *command = across.find_command("x", &section);
    ASSERT_NE(command, nullptr);
    EXPECT_EQ(section->name, "b");
    EXPECT_EQ(command->argv, (std::vector<std::string>{"two"}));
    ASSERT_EQ(across.warnings.size(), 1u);
    EXPECT_EQ(across.warnings[0],
              "test.conf:4: command \"x\" is defined again (first at test.conf:2); "
              "the later definition is used");

    const Config within = parse("[a]\nx first\ny\n  x second\n");
    EXPECT_EQ(within.servers[0].find_command("x")->argv, (std::vector<std::string>{"second"}));
    EXPECT_EQ(within.find_command("x")->line, 4);
    ASSERT_EQ(within.warnings.size(), 1u);
    EXPECT_NE(within.warnings[0].find("first at test.conf:2"), std::string::npos);

    const Config thrice = parse("[a]\nx 1\n[b]\nx 2\n[c]\nx 3\n");
    EXPECT_EQ(thrice.find_command("x")->argv, (std::vector<std::string>{"3"}));
    ASSERT_EQ(thrice.warnings.size(), 2u);
    EXPECT_NE(thrice.warnings[1].find("test.conf:6: command \"x\" is defined again (first at test.conf:4)"),
              std::string::npos);
    EXPECT_TRUE(parse("[a]\nx\ny\n").warnings.empty());
}

TEST(ConfigSections, Errors) {
    expect_error("[s]\nx\n[s]\ny", 3, 2, "duplicate server section \"s\" (first at line 1)");
    expect_error("[s]\n[ s:1300 ]\ny", 2, 3, "duplicate server section \"s\"");
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
    const Config config =
        parse("[s]\nc A=b=c \"B=x y\" =LD='${LD}':. ?P='${Q:-d}'${Q} =E==\n", {{"Q", "q"}, {"LD", "load"}});
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

// --- the shapes of configuration upstream's users write ---
// Each configuration below is written for this project; together they use every construct of
// upstream's documented example and of the configurations its own tests feed its parser, so a
// file a team brings along parses to the same servers, ports and commands.

// A documented example in upstream's style: comments everywhere, an expanded base directory
// with a default, implicit ports, a server option after `]`, a loader as the executable with a
// per-request expansion, and a section that only has an option (ignored).
constexpr std::string_view kMigratedExample = R"conf(# team build configuration (migrated)
# strings: bare, "double" with escapes, 'single' with '' for a quote

baseDirectory = ${CI_WORKDIR:-.}   # the checkout, wherever CI put it

[ cc ] --keep-client-executables   # a server option for this section
clang
clang++

[ jdk ]
jshell ?JAVA_TOOL_OPTIONS= =JAVA_TOOL_OPTIONS='${JAVA_TOOL_OPTIONS}' -Xss4m /lib64/ld-linux-x86-64.so.2 /opt/jdk/bin/jshell

[ py ]
python3 ?PYTHONPATH= ?VIRTUAL_ENV=   # no executable: python3 itself
pip3

[ tools ]
cmake

[ Unused ] --whatever-this-means
# no command: the section is ignored, its option never read
)conf";

TEST(ConfigUpstreamShapes, DocumentedExample) {
    const Config config = parse(kMigratedExample, {{"JAVA_TOOL_OPTIONS", "/not/expanded/at/load"}});
    EXPECT_EQ(config.base_directory, ".");
    EXPECT_EQ(parse(kMigratedExample, {{"CI_WORKDIR", "/builds/x"}}).base_directory, "/builds/x");
    ASSERT_EQ(config.servers.size(), 4u);

    const ServerSection &cc = config.servers[0];
    EXPECT_EQ(cc.name, "cc");
    EXPECT_EQ(cc.port, 1120);
    EXPECT_EQ(cc.options, (std::vector<std::string>{"--keep-client-executables"}));
    ASSERT_EQ(cc.commands.size(), 2u);
    EXPECT_EQ(cc.commands[0].argv, (std::vector<std::string>{"clang"}));
    EXPECT_EQ(cc.commands[1].name, "clang++");

    const ServerSection &jdk = config.servers[1];
    EXPECT_EQ(jdk.port, 1121);
    const Command &jshell = jdk.commands.at(0);
    ASSERT_EQ(jshell.env.size(), 2u);
    EXPECT_EQ(jshell.env[0].rule, EnvRule::ClientDefaultOrServer);
    EXPECT_EQ(jshell.env[0].name, "JAVA_TOOL_OPTIONS");
    EXPECT_EQ(jshell.env[0].value, "");
    EXPECT_EQ(jshell.env[1].rule, EnvRule::Server);
    EXPECT_EQ(jshell.env[1].value, "${JAVA_TOOL_OPTIONS}");
    EXPECT_EQ(jshell.argv, (std::vector<std::string>{"-Xss4m", "/lib64/ld-linux-x86-64.so.2", "/opt/jdk/bin/jshell"}));

    const ServerSection &py = config.servers[2];
    EXPECT_EQ(py.port, 1122);
    EXPECT_EQ(py.commands.at(0).argv, (std::vector<std::string>{"python3"}));
    EXPECT_EQ(py.commands.at(0).env.size(), 2u);
    EXPECT_EQ(py.commands.at(1).name, "pip3");

    EXPECT_EQ(config.servers[3].name, "tools");
    EXPECT_EQ(config.servers[3].port, 1123);
    EXPECT_EQ(config.find_server("Unused"), nullptr);
}

// The older spelling of the base directory and `=NAME=` on a command line.
TEST(ConfigUpstreamShapes, OlderSpellings) {
    const Config config = parse(
        "workingDirectory = ${SRC_ROOT:-.}   # relative to this file\n"
        "[ cc ]\nclang\nclang++\n\n"
        "[ jdk ]\njshell =JAVA_HOME= /usr/lib/jvm/bin/jshell --no-startup\n\n"
        "[ py ]\npython3 ?PYTHONPATH=\npip3\n\n"
        "[ tools ]\ncmake\n");
    EXPECT_EQ(config.base_directory, ".");
    ASSERT_EQ(config.servers.size(), 4u);
    EXPECT_EQ(config.servers[3].port, 1123);
    const Command &jshell = config.servers[1].commands.at(0);
    ASSERT_EQ(jshell.env.size(), 1u);
    EXPECT_EQ(jshell.env[0].rule, EnvRule::Server);
    EXPECT_EQ(jshell.env[0].name, "JAVA_HOME");
    EXPECT_EQ(jshell.argv.size(), 2u);
}

// A pod's ConfigMap: a section-wide entry applies to every command of the section; the older
// form puts it on one command line only.
TEST(ConfigUpstreamShapes, SectionWideEntry) {
    const Config config = parse("baseDirectory = ../../src\n\n[runner] =CI_JOB_TOKEN=\nenv\nls\nid\n");
    EXPECT_EQ(config.base_directory, "../../src");
    ASSERT_EQ(config.servers.size(), 1u);
    EXPECT_EQ(config.servers[0].name, "runner");
    EXPECT_EQ(config.servers[0].port, 1120);
    EXPECT_TRUE(config.servers[0].options.empty());
    ASSERT_EQ(config.servers[0].commands.size(), 3u);
    for (const Command &command : config.servers[0].commands) {
        ASSERT_EQ(command.env.size(), 1u);
        EXPECT_EQ(command.env[0].rule, EnvRule::Server);
        EXPECT_EQ(command.env[0].name, "CI_JOB_TOKEN");
        EXPECT_EQ(command.argv, std::vector<std::string>{command.name});
    }

    const Config older = parse("baseDirectory = ../../src\n\n[runner]\nenv =CI_JOB_TOKEN=\nls\nid\n");
    EXPECT_EQ(older.servers.at(0).commands.at(0).env.size(), 1u);
    EXPECT_TRUE(older.servers.at(0).commands.at(1).env.empty());
}

// Many server options on the section line (some unknown, kept for -i to skip), quoted command
// names, and the same tool under each PATH rule.
TEST(ConfigUpstreamShapes, OptionsAndQuotedNames) {
    const Config config = parse(
        "baseDirectory = .\n"
        "[ci] --generate-local-executables --max-connections 6 --timeout 90000 "
        "--ignore-invalid-arguments notAnOption\n"
        "'run-a' RUN_ID= PATH= '/usr/local/bin/runner' a\n"
        "'run-b' RUN_ID= =PATH= '/usr/local/bin/runner' b\n"
        "'run-c' RUN_ID= ?PATH= '/usr/local/bin/runner' c\n");
    const ServerSection &server = config.servers.at(0);
    EXPECT_EQ(server.port, 1120);
    EXPECT_EQ(server.options.size(), 7u);
    ASSERT_EQ(server.commands.size(), 3u);
    const EnvRule rules[] = {EnvRule::ClientOrDefault, EnvRule::Server, EnvRule::ClientDefaultOrServer};
    const std::string letters = "abc";
    for (int i = 0; i < 3; ++i) {
        const Command &command = server.commands[i];
        EXPECT_EQ(command.name, std::string("run-") + letters[i]);
        ASSERT_EQ(command.env.size(), 2u);
        EXPECT_EQ(command.env[0].name, "RUN_ID");
        EXPECT_EQ(command.env[1].name, "PATH");
        EXPECT_EQ(command.env[1].rule, rules[i]);
        EXPECT_EQ(command.argv, (std::vector<std::string>{"/usr/local/bin/runner", std::string(1, letters[i])}));
    }
}

// Two variables in the base directory, a trailing comment, an empty section, a section name
// with a space, quoted and escaped arguments, and a command listed in two sections.
constexpr std::string_view kTwoSectionsConf =
    "workingDirectory = ${HOME_A}/${HOME_B} # joined from two variables\n"
    "\n"
    "# the next section is empty and so ignored\n"
    "[nothing]\n"
    "\n"
    "[ build:2200 ] # a comment after the section\n"
    "tool X= ?Y= real-tool 'single arg' \"\\\"quoted\\\"\\tand \"\"\"\n"
    "helper helper-bin\n"
    "['build two']\n"
    "TOOL Z= # only the name is needed";

TEST(ConfigUpstreamShapes, QuotingAndASecondSection) {
    const Config config = parse(kTwoSectionsConf, {{"HOME_A", "a"}, {"HOME_B", "b"}});
    EXPECT_EQ(config.base_directory, "a/b");
    ASSERT_EQ(config.servers.size(), 2u);
    const ServerSection &build = config.servers[0];
    EXPECT_EQ(build.name, "build");
    EXPECT_EQ(build.port, 2200);
    const Command &tool = build.commands.at(0);
    ASSERT_EQ(tool.env.size(), 2u);
    EXPECT_EQ(tool.env[0].name, "X");
    EXPECT_EQ(tool.env[1].name, "Y");
    EXPECT_EQ(tool.env[1].rule, EnvRule::ClientDefaultOrServer);
    EXPECT_EQ(tool.argv, (std::vector<std::string>{"real-tool", "single arg", "\"quoted\"\tand \""}));
    EXPECT_EQ(build.commands.at(1).argv, (std::vector<std::string>{"helper-bin"}));
    EXPECT_EQ(config.servers[1].name, "build two");
    EXPECT_EQ(config.servers[1].port, 2201);
    EXPECT_EQ(config.servers[1].commands.at(0).env.at(0).name, "Z");
    EXPECT_EQ(config.servers[1].commands.at(0).argv, (std::vector<std::string>{"TOOL"}));

    // Listed in both sections (upstream's parser accepts it): the later definition wins.
    std::string twice(kTwoSectionsConf);
    twice.replace(twice.find("TOOL"), 4, "tool");
    const Config both = parse(twice, {{"HOME_A", "a"}, {"HOME_B", "b"}});
    const ServerSection *section = nullptr;
    ASSERT_NE(both.find_command("tool", &section), nullptr);
    EXPECT_EQ(section->name, "build two");
    ASSERT_EQ(both.warnings.size(), 1u);
    EXPECT_NE(both.warnings[0].find("test.conf:10: command \"tool\" is defined again (first at test.conf:7)"),
              std::string::npos);
}

// The classes of broken file upstream's parser rejects: each is a located error here too.
TEST(ConfigUpstreamShapes, BrokenFiles) {
    expect_error("unknownKey=1", 1, 1, "unrecognized configuration key \"unknownKey\"");
    expect_error("baseDirectory=two words", 1, 19, "expecting end of line");
    expect_error("baseDirectory=\"one\tword\" trailing\n# next line", 1, 26, "expecting end of line");
    expect_error("baseDirectory=\"never closed", 1, 15, "unterminated double-quoted string");
    expect_error("baseDirectory=\"bad \\q escape\"", 1, 20, "unrecognized escape sequence \\q");
    expect_error("baseDirectory='never closed", 1, 15, "unterminated single-quoted string");
    expect_error("baseDirectory=${HOME}\n[\nname]", 2, 2, "expecting a server name");
    expect_error("baseDirectory=${HOME}\n[ name:70000 ]", 2, 3, "port out of range");
    expect_error("baseDirectory=${HOME}\n[ name:7a00 ]", 2, 3, "invalid port number");
    expect_error("baseDirectory=${HOME}\n[name\n]", 2, 6, "expecting ] to close the server section");
}

// --- a stub's load: its own command only ---

// Other commands' lines, with quotes that span lines, doubled quotes, escaped quotes and `#`
// inside quotes: skipped to the right place, so the asked-for command comes out exactly as the
// full parse gives it, with its line number.
TEST(ConfigOnlyCommand, SkipsOtherLinesToTheSameResult) {
    const std::string text =
        "connectTimeoutMs = 250\n"
        "[ a:7100 ] A=1\n"
        "  other 'it''s # not a comment\n still quoted' x\n"
        "  other2 \"a \\\" b\n # inside\" \"\"\"\" # a real comment 'x\n"
        "[ b:7200 ]\n"
        "  mine B=2 ?C=3 real-mine \"two words\" 'lit ${HOME}' # trailing\n"
        "  after x\n";
    const Config full = parse(text);
    const Config only = parse_config(text, "test.conf", fake_env({}), "mine");
    EXPECT_EQ(only.connect_timeout_ms, 250);
    ASSERT_EQ(only.servers.size(), 1u);  // a section without the command is dropped
    EXPECT_EQ(only.servers[0].name, "b");
    EXPECT_EQ(only.servers[0].port, 7200);
    ASSERT_EQ(only.servers[0].commands.size(), 1u);
    const ServerSection *full_section = nullptr;
    const Command *expected = full.find_command("mine", &full_section);
    ASSERT_NE(expected, nullptr);
    const Command &got = only.servers[0].commands[0];
    EXPECT_EQ(got.line, 8);  // two quoted pieces above span a line each
    EXPECT_EQ(got.line, expected->line);
    EXPECT_EQ(got.argv, expected->argv);
    EXPECT_EQ(got.env.size(), expected->env.size());
    EXPECT_EQ(only.find_command("other", nullptr), nullptr);
    EXPECT_EQ(only.find_command("after", nullptr), nullptr);
}

TEST(ConfigOnlyCommand, TheLaterDefinitionStillWins) {
    const Config only = parse_config("[a]\nx first\ny\n[b]\nx second\n", "test.conf", fake_env({}), "x");
    const ServerSection *section = nullptr;
    const Command *command = only.find_command("x", &section);
    ASSERT_NE(command, nullptr);
    EXPECT_EQ(command->argv, std::vector<std::string>{"second"});
    EXPECT_EQ(section->name, "b");
}

// Settings and section lines are still checked; an unterminated quote in a skipped line is still
// an error (the rest of the file cannot be read past it). A bad escape in another command's
// line is left to k8pshd and --check, which read everything.
TEST(ConfigOnlyCommand, WhatIsStillChecked) {
    const auto only = [](std::string_view text) { return parse_config(text, "test.conf", fake_env({}), "x"); };
    EXPECT_THROW(only("bogusKey = 1\n[a]\nx\n"), ConfigError);
    EXPECT_THROW(only("[a:99999]\nx\n"), ConfigError);
    EXPECT_THROW(only("[a]\ny 'open\nx\n"), ConfigError);
    EXPECT_THROW(only("[a]\nx \"\\q\"\n"), ConfigError);  // the asked-for command: fully read
    EXPECT_NO_THROW(only("[a]\ny \"\\q\"\nx\n"));
    EXPECT_THROW(only("[a]\nx\n../escaped\n"), ConfigError);  // every name must be a file name
    EXPECT_THROW(parse("[a]\ny \"\\q\"\nx\n"), ConfigError);
}

// A name with quotes or `${…}` is decoded before it is compared (plain names are compared where
// they stand); a skipped line with a quote anywhere, even one spanning lines or inside a comment,
// is walked piece by piece, so later lines keep their numbers and errors their columns.
TEST(ConfigOnlyCommand, DecodedNamesAndQuotedSkippedLines) {
    const auto only = [](std::string_view text, const Vars &vars = {}) {
        return parse_config(text, "test.conf", fake_env(vars), "x");
    };
    const std::vector<std::string> real{"real"};
    EXPECT_EQ(only("[a]\n${CMD} real\n", {{"CMD", "x"}}).find_command("x")->argv, real);
    EXPECT_EQ(only("[a]\n'x' real\n").find_command("x")->argv, real);
    EXPECT_EQ(only("[a]\n\"x\"r'e'al\n").find_command("x"), nullptr);  // one word: `xreal`
    EXPECT_EQ(only("[a]\nx$ no\ny${ no\n$x no\n").find_command("x"), nullptr);

    const std::string skipped =
        "[a]\n"
        "y a'b\n"
        "c' d # it's a comment\n"
        "z \"one\\\"\n"
        "\" 'two\n"
        "'' three'\n"
        "w#'\n"
        "v /bin/true\r\n";
    const Config config = only(skipped + "x line\n");
    ASSERT_NE(config.find_command("x"), nullptr);
    EXPECT_EQ(config.find_command("x")->line, 9);
    EXPECT_EQ(parse(skipped + "x line\n").find_command("x")->line, 9);
    try {
        only(skipped + "x \"\\q\"\n");
        ADD_FAILURE() << "no error";
    } catch (const ConfigError &error) {
        EXPECT_STREQ(error.what(), "test.conf:9:4: unrecognized escape sequence \\q");
    }
    try {
        only("[a]\n  y\n  'q'\n  ../e # it's\n");
        ADD_FAILURE() << "no error";
    } catch (const ConfigError &error) {
        EXPECT_STREQ(error.what(), "test.conf:4:3: command name \"../e\" is not a file name (no '/', not . or ..)");
    }
}

}  // namespace
}  // namespace k8psh
