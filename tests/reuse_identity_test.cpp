// A master's identity: the same for stubs that would connect the same way (also when they name
// the keys differently), different as soon as anything that shapes the connection differs.
#include "reuse_identity.h"

#include "keys.h"
#include "temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

namespace k8psh {
namespace {

class Identity : public ::testing::Test {
protected:
    void SetUp() override {
        ensure_key_directory(dir_ / "keys", {});
        target_.key_directory = dir_ / "keys";
        target_.server_name = "srv";
        target_.port = 1120;
        target_.timeout_ms = 8000;
    }
    test::TempDir dir_;
    ConnectTarget target_;
};

TEST_F(Identity, SameConnectionSameIdentity) {
    EXPECT_EQ(master_identity(target_, 30000), master_identity(target_, 30000));
    ConnectTarget other = target_;
    other.interrupt_fd = 7;  // the stub's own business, not the master's
    EXPECT_EQ(master_identity(other, 30000), master_identity(target_, 30000));
}

TEST_F(Identity, KeysNamedThroughASymlinkAreTheSameKeys) {
    ASSERT_EQ(symlink((dir_ / "keys").c_str(), (dir_ / "link").c_str()), 0);
    ConnectTarget other = target_;
    other.key_directory = dir_ / "link";
    EXPECT_EQ(master_identity(other, 30000), master_identity(target_, 30000));
}

TEST_F(Identity, EverythingThatShapesTheConnectionCounts) {
    const std::string base = master_identity(target_, 30000);
    EXPECT_NE(master_identity(target_, 600), base) << "idle lifetime";
    ConnectTarget other = target_;
    other.timeout_ms = 300;
    EXPECT_NE(master_identity(other, 30000), base) << "connectTimeoutMs";
    other = target_;
    other.port = 1121;
    EXPECT_NE(master_identity(other, 30000), base) << "port";
    other = target_;
    other.host = "127.0.0.2";
    EXPECT_NE(master_identity(other, 30000), base) << "address";
    other = target_;
    other.server_name = "other";
    EXPECT_NE(master_identity(other, 30000), base) << "server name";
    other = target_;
    std::filesystem::copy(dir_ / "keys", dir_ / "copy");
    other.key_directory = dir_ / "copy";
    EXPECT_NE(master_identity(other, 30000), base) << "another key directory, even with the same keys";
}

TEST_F(Identity, RegeneratedKeysAreAnotherIdentity) {
    const std::string before = master_identity(target_, 30000);
    KeyDirectoryOptions regenerate;
    regenerate.regenerate = true;
    ensure_key_directory(target_.key_directory, regenerate);
    EXPECT_NE(master_identity(target_, 30000), before);
}

}  // namespace
}  // namespace k8psh
