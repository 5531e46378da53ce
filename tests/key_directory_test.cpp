// Where the keys are, in README order: --keys, else $K8PSH_KEYS, else the configuration's
// keyDirectory, else keys/ beside the real path of the running binary. Always absolute.
#include "key_directory.h"

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <gtest/gtest.h>
#include <unistd.h>

namespace k8psh {
namespace {

// Sets or clears K8PSH_KEYS for one test and puts the previous value back.
class KeysVariable {
public:
    explicit KeysVariable(const char *value) {
        if (const char *old = std::getenv("K8PSH_KEYS"); old != nullptr) {
            saved_ = old;
        }
        value != nullptr ? setenv("K8PSH_KEYS", value, 1) : unsetenv("K8PSH_KEYS");
    }
    ~KeysVariable() { saved_ ? setenv("K8PSH_KEYS", saved_->c_str(), 1) : unsetenv("K8PSH_KEYS"); }

private:
    std::optional<std::string> saved_;
};

Config with_key_directory(const char *directory) {
    Config config;
    if (directory != nullptr) {
        config.key_directory = directory;
    }
    return config;
}

TEST(KeyDirectory, OptionComesFirst) {
    KeysVariable keys("/from/env");
    EXPECT_EQ(resolve_key_directory("/from/option", with_key_directory("/from/config"), "k8psh"), "/from/option");
}

TEST(KeyDirectory, EnvironmentBeforeConfiguration) {
    KeysVariable keys("/from/env");
    EXPECT_EQ(resolve_key_directory(std::nullopt, with_key_directory("/from/config"), "k8psh"), "/from/env");
}

TEST(KeyDirectory, EmptyEnvironmentCountsAsUnset) {
    KeysVariable keys("");
    EXPECT_EQ(resolve_key_directory(std::nullopt, with_key_directory("/from/config"), "k8psh"), "/from/config");
}

TEST(KeyDirectory, BesideTheRunningBinaryLast) {
    KeysVariable keys(nullptr);
    const auto binary = std::filesystem::canonical("/proc/self/exe");
    EXPECT_EQ(resolve_key_directory(std::nullopt, with_key_directory(nullptr), "k8psh"),
              (binary.parent_path() / "keys").string());
}

TEST(KeyDirectory, RelativePathsBecomeAbsoluteWithoutTrailingSlash) {
    KeysVariable keys(nullptr);
    char cwd[PATH_MAX];
    ASSERT_NE(getcwd(cwd, sizeof cwd), nullptr);
    EXPECT_EQ(resolve_key_directory("keys/./pod/", with_key_directory(nullptr), "k8psh"),
              std::string(cwd) + "/keys/pod");
}

}  // namespace
}  // namespace k8psh
