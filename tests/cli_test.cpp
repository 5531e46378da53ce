#include "cli.h"

#include <gtest/gtest.h>

namespace k8psh {
namespace {

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
    for (const char *text : {"-1", "1000:-1", "-1:1000", "4294967295", "1000:4294967295", "4294967296", "+1000",
                             "99999999999999999999"}) {
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
