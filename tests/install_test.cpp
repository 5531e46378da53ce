#include "install.h"
#include "temp_dir.h"

#include <gtest/gtest.h>
#include <random>

namespace k8psh {
namespace {

using test::file_mode;
using test::list_directory;
using test::read_file;
using test::TempDir;
using test::write_file;

// Not a multiple of any copy buffer size, so the last partial chunk is exercised.
std::string binary_bytes(std::size_t size) {
    std::mt19937 random(7);
    std::string bytes(size, '\0');
    for (auto &byte : bytes) {
        byte = static_cast<char>(random());
    }
    return bytes;
}

std::string error_of(const std::string &self, const std::string &destination) {
    try {
        install(self, destination, {});
    } catch (const std::runtime_error &e) {
        return e.what();
    }
    return "";
}

TEST(Install, CopiesTheBinaryAndCreatesKeysBesideIt) {
    TempDir tmp;
    const std::string self = tmp / "source";
    const std::string bytes = binary_bytes(300 * 1024 + 17);
    write_file(self, bytes);
    const std::string destination = tmp / "k8psh/bin/k8pshd";
    install(self, destination, {});
    EXPECT_EQ(read_file(destination), bytes);
    EXPECT_EQ(file_mode(destination), 0755u);
    EXPECT_EQ(file_mode(tmp / "k8psh/bin"), 0755u);
    // The client face gets its own name beside the server's: k8psh -> k8pshd.
    EXPECT_EQ(list_directory(tmp / "k8psh/bin"), (std::set<std::string>{"k8psh", "k8pshd", "keys"}));
    EXPECT_EQ(std::filesystem::read_symlink(tmp / "k8psh/bin/k8psh"), "k8pshd");
    EXPECT_EQ(list_directory(tmp / "k8psh/bin/keys").size(), 5u);
    EXPECT_EQ(file_mode(tmp / "k8psh/bin/keys/host_ed25519"), 0600u);
}

TEST(Install, CopiesTheRunningExecutable) {
    TempDir tmp;
    const std::string destination = tmp / "k8pshd";
    install("/proc/self/exe", destination, {});
    EXPECT_EQ(read_file(destination), read_file("/proc/self/exe"));
}

// Upstream wrote over the old file without truncating; a shorter binary kept the old tail.
TEST(Install, ReinstallOverALargerFileTruncates) {
    TempDir tmp;
    const std::string self = tmp / "source";
    const std::string destination = tmp / "bin/k8pshd";
    std::filesystem::create_directories(tmp / "bin");
    write_file(destination, std::string(1 << 20, 'x'));
    write_file(self, "short binary");
    install(self, destination, {});
    EXPECT_EQ(read_file(destination), "short binary");
    EXPECT_EQ(file_mode(destination), 0755u);
}

TEST(Install, KeepsExistingKeysOnReinstall) {
    TempDir tmp;
    const std::string self = tmp / "source";
    write_file(self, "binary");
    install(self, tmp / "bin/k8pshd", {});
    const std::string host = read_file(tmp / "bin/keys/host_ed25519");
    install(self, tmp / "bin/k8pshd", {});
    EXPECT_EQ(read_file(tmp / "bin/keys/host_ed25519"), host);
}

TEST(Install, MissingSourceFailsWithoutLeavingTemporaries) {
    TempDir tmp;
    std::filesystem::create_directories(tmp / "bin");
    EXPECT_EQ(error_of(tmp / "absent", tmp / "bin/k8pshd"), tmp / "absent: cannot read: No such file or directory");
    EXPECT_TRUE(list_directory(tmp / "bin").empty());
}

TEST(Install, DestinationUnderARegularFileFails) {
    TempDir tmp;
    write_file(tmp / "source", "binary");
    write_file(tmp / "file", "x");
    EXPECT_EQ(error_of(tmp / "source", tmp / "file/bin/k8pshd"),
              tmp / "file/bin: cannot create directory: Not a directory");
}

TEST(Install, DestinationThatIsADirectoryFails) {
    TempDir tmp;
    write_file(tmp / "source", "binary");
    std::filesystem::create_directories(tmp / "bin/k8pshd/occupied");
    EXPECT_EQ(error_of(tmp / "source", tmp / "bin/k8pshd"), tmp / "bin/k8pshd: cannot write: Is a directory");
    EXPECT_EQ(list_directory(tmp / "bin"), std::set<std::string>{"k8pshd"});
}

}  // namespace
}  // namespace k8psh
