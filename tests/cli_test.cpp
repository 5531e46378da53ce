#include "cli.h"

#include <gtest/gtest.h>

namespace k8psh {
namespace {

// The face is decided before any parser runs; option values and the command's own words never
// count (`k8psh gcc --server` runs gcc with that argument).
TEST(ClientFace, OptionsPickTheFaceInAnyOrder) {
    EXPECT_EQ(client_face({}), Face::Client);
    EXPECT_EQ(client_face({"sort"}), Face::Client);
    EXPECT_EQ(client_face({"-c", "f.conf", "--server", "-n", "tools"}), Face::Server);
    EXPECT_EQ(client_face({"-s"}), Face::Server);
    EXPECT_EQ(client_face({"--install"}), Face::Install);
    EXPECT_EQ(client_face({"--install=/pod/bin/k8pshd"}), Face::Install);
    EXPECT_EQ(client_face({"--init", "sleep", "infinity"}), Face::Init);
}

TEST(ClientFace, WordsOfTheCommandAndOptionValuesAreNotFaces) {
    EXPECT_EQ(client_face({"gcc", "--server"}), Face::Client);
    EXPECT_EQ(client_face({"--", "--server"}), Face::Client);
    EXPECT_EQ(client_face({"-c", "--server", "sort"}), Face::Client);
    EXPECT_EQ(client_face({"--keys", "--init"}), Face::Client);
}

TEST(ParseClient, EverythingFromTheCommandOnBelongsToIt) {
    ClientOptions options = parse_client({"-t", "-c", "pod.conf", "gcc", "-c", "x.c", "--", "-T"});
    EXPECT_TRUE(options.force_tty);
    EXPECT_FALSE(options.force_no_tty);
    EXPECT_EQ(options.config, "pod.conf");
    EXPECT_EQ(options.command, (std::vector<std::string>{"gcc", "-c", "x.c", "--", "-T"}));
}

TEST(ParseClient, DoubleDashIntroducesACommandStartingWithADash) {
    ClientOptions options = parse_client({"--keys", "/k", "--", "-weird", "arg"});
    EXPECT_EQ(options.keys, "/k");
    EXPECT_EQ(options.command, (std::vector<std::string>{"-weird", "arg"}));
}

TEST(ParseClient, NoCommandIsAnEmptyCommand) {
    EXPECT_TRUE(parse_client({"--check"}).command.empty());
    EXPECT_TRUE(parse_client({"--check"}).check);
}

// Usage errors leave with code 2 (README: Exit codes) and one line on stderr.
int usage_exit_code(const std::vector<std::string> &args) {
    try {
        parse_client(args);
    } catch (const CliExit &exit) {
        return exit.code;
    }
    return -1;
}

TEST(ParseClient, UsageErrorsExitWithTwo) {
    EXPECT_EQ(usage_exit_code({"--bogus", "sort"}), 2);
    EXPECT_EQ(usage_exit_code({"-t", "-T", "sort"}), 2);
    EXPECT_EQ(usage_exit_code({"-c"}), 2);
    EXPECT_EQ(usage_exit_code({"sort"}), -1);
}

TEST(KeyOwner, UidAloneGivesTheSameGid) {
    auto owner = parse_key_owner("1000");
    ASSERT_TRUE(owner.has_value());
    EXPECT_EQ(owner->uid, 1000u);
    EXPECT_EQ(owner->gid, 1000u);
}

TEST(KeyOwner, UidAndGid) {
    auto owner = parse_key_owner("1000:2000");
    ASSERT_TRUE(owner.has_value());
    EXPECT_EQ(owner->uid, 1000u);
    EXPECT_EQ(owner->gid, 2000u);
    owner = parse_key_owner("0:0");
    ASSERT_TRUE(owner.has_value());
    EXPECT_EQ(owner->uid, 0u);
    EXPECT_EQ(owner->gid, 0u);
}

TEST(KeyOwner, TrailingJunkRefused) {
    for (const char *text : {"1000x", "1000:1000x", "1000:", "1000:1000:1", "1000 ", " 1000", "10 00", "0x10"}) {
        EXPECT_FALSE(parse_key_owner(text).has_value()) << text;
    }
}

TEST(KeyOwner, MinusOneAndOutOfRangeRefused) {
    // chown takes (uid_t)-1 as "leave unchanged": the keys would silently stay root's.
    for (const char *text :
         {"-1", "1000:-1", "-1:1000", "4294967295", "1000:4294967295", "4294967296", "+1000", "99999999999999999999"}) {
        EXPECT_FALSE(parse_key_owner(text).has_value()) << text;
    }
}

TEST(KeyOwner, EmptyRefused) {
    for (const char *text : {"", ":", ":1000"}) {
        EXPECT_FALSE(parse_key_owner(text).has_value()) << text;
    }
}

}  // namespace
}  // namespace k8psh
