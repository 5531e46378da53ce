// The environment a command gets (README: Configuration): the three rules, per-request templates, and
// nothing that is not configured.
#include "env_rules.h"

#include <gtest/gtest.h>

namespace k8psh {
namespace {

EnvLookup lookup_in(EnvMap vars) {
    return [vars = std::move(vars)](const std::string &name) -> std::optional<std::string> {
        if (auto it = vars.find(name); it != vars.end()) {
            return it->second;
        }
        return std::nullopt;
    };
}

EnvEntry entry(EnvRule rule, std::string name, std::string value = "") {
    return EnvEntry{rule, std::move(name), std::move(value)};
}

Command command_with(std::vector<EnvEntry> env) {
    Command command;
    command.name = "cmd";
    command.argv = {"cmd"};
    command.env = std::move(env);
    return command;
}

EnvList build(const std::vector<EnvEntry> &env, const EnvMap &client, const EnvMap &server) {
    return build_command_env(command_with(env), client, lookup_in(server));
}

constexpr EnvRule kClient = EnvRule::ClientOrDefault;
constexpr EnvRule kOptional = EnvRule::ClientDefaultOrServer;
constexpr EnvRule kServer = EnvRule::Server;

TEST(EnvRules, ClientOrDefault) {
    const std::vector<EnvEntry> env = {entry(kClient, "A", "dflt")};
    EXPECT_EQ(build(env, {{"A", "client"}}, {{"A", "server"}}), (EnvList{{"A", "client"}}));
    EXPECT_EQ(build(env, {{"A", ""}}, {{"A", "server"}}), (EnvList{{"A", ""}}));  // sent empty is sent
    EXPECT_EQ(build(env, {}, {{"A", "server"}}), (EnvList{{"A", "dflt"}}));
}

TEST(EnvRules, ClientOrEmptyDefaultIsSetButEmpty) {
    EXPECT_EQ(build({entry(kClient, "A")}, {}, {{"A", "server"}}), (EnvList{{"A", ""}}));
}

TEST(EnvRules, ClientDefaultOrServer) {
    const std::vector<EnvEntry> with_default = {entry(kOptional, "A", "dflt")};
    EXPECT_EQ(build(with_default, {{"A", "client"}}, {{"A", "server"}}), (EnvList{{"A", "client"}}));
    EXPECT_EQ(build(with_default, {}, {{"A", "server"}}), (EnvList{{"A", "dflt"}}));

    const std::vector<EnvEntry> empty_default = {entry(kOptional, "A")};
    EXPECT_EQ(build(empty_default, {{"A", "client"}}, {{"A", "server"}}), (EnvList{{"A", "client"}}));
    EXPECT_EQ(build(empty_default, {}, {{"A", "server"}}), (EnvList{{"A", "server"}}));
    EXPECT_EQ(build(empty_default, {}, {}), EnvList{});  // nobody has it: not passed at all
}

TEST(EnvRules, ServerAlways) {
    const std::vector<EnvEntry> own = {entry(kServer, "PATH")};
    EXPECT_EQ(build(own, {{"PATH", "client"}}, {{"PATH", "/srv/bin"}}), (EnvList{{"PATH", "/srv/bin"}}));
    EXPECT_EQ(build(own, {{"PATH", "client"}}, {}), EnvList{});

    const std::vector<EnvEntry> value = {entry(kServer, "MODE", "fixed")};
    EXPECT_EQ(build(value, {{"MODE", "client"}}, {{"MODE", "server"}}), (EnvList{{"MODE", "fixed"}}));
}

TEST(EnvRules, ClientValuesAreNeverExpanded) {
    EXPECT_EQ(build({entry(kClient, "A", "d")}, {{"A", "${HOME}"}}, {{"HOME", "/root"}}), (EnvList{{"A", "${HOME}"}}));
}

// Upstream's example: `?LD_LIBRARY_PATH= =LD_LIBRARY_PATH='${LD_LIBRARY_PATH}':.` appends `:.` to
// the client's value (or the server's when the client has none), at the name's first position.
TEST(EnvRules, TemplateSeesEarlierEntriesThenTheServer) {
    const std::vector<EnvEntry> env = {entry(kOptional, "LD"), entry(kServer, "LD", "${LD}:.")};
    EXPECT_EQ(build(env, {{"LD", "/client/lib"}}, {{"LD", "/srv/lib"}}), (EnvList{{"LD", "/client/lib:."}}));
    EXPECT_EQ(build(env, {}, {{"LD", "/srv/lib"}}), (EnvList{{"LD", "/srv/lib:."}}));
    EXPECT_EQ(build(env, {}, {}), (EnvList{{"LD", ":."}}));
}

TEST(EnvRules, LoneServerTemplateSeesTheServersValue) {
    const std::vector<EnvEntry> env = {entry(kServer, "LD", "${LD}:.")};
    EXPECT_EQ(build(env, {{"LD", "/client/lib"}}, {{"LD", "/srv/lib"}}), (EnvList{{"LD", "/srv/lib:."}}));
}

TEST(EnvRules, DefaultsAreTemplatesToo) {
    // `GRADLE_OPTS='${GRADLE_OPTS}'` behaves like `?GRADLE_OPTS=`, as upstream's example notes.
    const std::vector<EnvEntry> env = {entry(kClient, "GRADLE_OPTS", "${GRADLE_OPTS}")};
    EXPECT_EQ(build(env, {}, {{"GRADLE_OPTS", "-Xmx1g"}}), (EnvList{{"GRADLE_OPTS", "-Xmx1g"}}));
    EXPECT_EQ(build(env, {{"GRADLE_OPTS", "-q"}}, {{"GRADLE_OPTS", "-Xmx1g"}}), (EnvList{{"GRADLE_OPTS", "-q"}}));

    const std::vector<EnvEntry> with_fallback = {entry(kOptional, "D", "${MISSING:-none}/${HOME}")};
    EXPECT_EQ(build(with_fallback, {}, {{"HOME", "/root"}}), (EnvList{{"D", "none//root"}}));
}

TEST(EnvRules, TemplateSeesTheClientsValueOfAnEarlierName) {
    const std::vector<EnvEntry> env = {entry(kClient, "A", "a"), entry(kServer, "B", "${A}-b")};
    EXPECT_EQ(build(env, {{"A", "x"}}, {{"A", "srv"}}), (EnvList{{"A", "x"}, {"B", "x-b"}}));
    EXPECT_EQ(build(env, {}, {{"A", "srv"}}), (EnvList{{"A", "a"}, {"B", "a-b"}}));
}

TEST(EnvRules, EachNameOnceInListOrderLastValueWins) {
    // Section-wide entries come first in Command::env; a command's own entry for the same
    // name replaces the value but keeps the section's position.
    const std::vector<EnvEntry> env = {entry(kClient, "A", "1"), entry(kServer, "C", "c"), entry(kClient, "B", "2"),
                                       entry(kClient, "A", "3")};
    EXPECT_EQ(build(env, {}, {}), (EnvList{{"A", "3"}, {"C", "c"}, {"B", "2"}}));
}

TEST(EnvRules, ALaterUnsetValueRemovesTheName) {
    const std::vector<EnvEntry> env = {entry(kClient, "A", "1"), entry(kServer, "A")};
    EXPECT_EQ(build(env, {}, {}), EnvList{});
}

TEST(EnvRules, NothingUnconfiguredPasses) {
    const std::vector<EnvEntry> env = {entry(kClient, "A", "a")};
    const EnvList result =
        build(env, {{"A", "x"}, {"SECRET", "client"}, {"PATH", "/c"}}, {{"HOME", "/root"}, {"PATH", "/s"}});
    EXPECT_EQ(result, (EnvList{{"A", "x"}}));
    EXPECT_EQ(build({}, {{"A", "x"}}, {{"A", "y"}}), EnvList{});
}

TEST(EnvRules, ClientEnvNames) {
    const Command command = command_with({entry(kClient, "A"), entry(kServer, "S", "${X}"), entry(kOptional, "B"),
                                          entry(kClient, "A", "again"), entry(kServer, "B")});
    EXPECT_EQ(client_env_names(command), (std::vector<std::string>{"A", "B"}));
    EXPECT_TRUE(client_env_names(command_with({entry(kServer, "PATH")})).empty());
}

TEST(EnvTemplates, Expansion) {
    const EnvLookup vars =
        lookup_in({{"A", "va"}, {"B", "vb"}, {"EMPTY", ""}, {"ProgramFiles(x86)", "pf"}, {"a.b-c", "dots"}});
    EXPECT_EQ(expand_variables("", vars), "");
    EXPECT_EQ(expand_variables("plain $A", vars), "plain $A");
    EXPECT_EQ(expand_variables("${A}${B}", vars), "vavb");
    EXPECT_EQ(expand_variables("<${A}>", vars), "<va>");
    EXPECT_EQ(expand_variables("${UNSET}", vars), "");
    EXPECT_EQ(expand_variables("${UNSET:-d e}", vars), "d e");
    EXPECT_EQ(expand_variables("${UNSET:-}", vars), "");
    EXPECT_EQ(expand_variables("${EMPTY:-d}", vars), "");
    EXPECT_EQ(expand_variables("${A:-d}", vars), "va");
    EXPECT_EQ(expand_variables("${UNSET:-${A}}", vars), "${A}");  // a default is not expanded again
    EXPECT_EQ(expand_variables("${ProgramFiles(x86)}", vars), "pf");
    EXPECT_EQ(expand_variables("${a.b-c}", vars), "dots");
}

TEST(EnvTemplates, NonReferencesStayLiteral) {
    const EnvLookup vars = lookup_in({{"A", "va"}});
    EXPECT_EQ(expand_variables("${A", vars), "${A");
    EXPECT_EQ(expand_variables("${A:x}${A}", vars), "${A:x}va");
    EXPECT_EQ(expand_variables("${A:-open", vars), "${A:-open");
    EXPECT_EQ(expand_variables("${A/x}", vars), "${A/x}");
    EXPECT_EQ(expand_variables("${${A}}", vars), "${va}");
    EXPECT_EQ(expand_variables("$", vars), "$");
    EXPECT_EQ(expand_variables("${", vars), "${");
}

}  // namespace
}  // namespace k8psh
