// write_stubs on a real directory: which commands get a stub, and what happens to what is
// already there (our stub kept, a foreign file kept unless -o).
#include "stubs.h"

#include "temp_dir.h"

#include <climits>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

namespace k8psh {
namespace {

Config two_servers() {
    return parse_config("[ tools:1120 ]\n  make\n  sort\n[ local:1121 ]\n  here\n", "test.conf",
                        [](const std::string &) -> std::optional<std::string> { return std::nullopt; });
}

std::string link_target(const std::string &path) {
    char buffer[PATH_MAX];
    ssize_t n = readlink(path.c_str(), buffer, sizeof buffer);
    return n < 0 ? "" : std::string(buffer, static_cast<std::size_t>(n));
}

bool exists(const std::string &path) {
    struct stat info {};
    return lstat(path.c_str(), &info) == 0;
}

StubOptions options_for(const test::TempDir &dir) {
    StubOptions options;
    options.directory = dir / "stubs";
    options.target = "/k8psh/bin/k8pshd";
    options.local_server = "local";
    return options;
}

TEST(Stubs, OneSymlinkPerRemoteCommandInADirectoryItCreates) {
    test::TempDir dir;
    auto created = write_stubs(two_servers(), options_for(dir));
    EXPECT_EQ(created, (std::vector<std::string>{dir / "stubs/make", dir / "stubs/sort"}));
    EXPECT_EQ(link_target(dir / "stubs/make"), "/k8psh/bin/k8pshd");
    EXPECT_FALSE(exists(dir / "stubs/here"));
}

TEST(Stubs, LocalCommandsOnlyWhenAsked) {
    test::TempDir dir;
    StubOptions options = options_for(dir);
    options.include_local = true;
    write_stubs(two_servers(), options);
    EXPECT_EQ(link_target(dir / "stubs/here"), "/k8psh/bin/k8pshd");
}

TEST(Stubs, ExistingStubIsKeptAndNotReportedAsCreated) {
    test::TempDir dir;
    write_stubs(two_servers(), options_for(dir));
    EXPECT_TRUE(write_stubs(two_servers(), options_for(dir)).empty());
    EXPECT_EQ(link_target(dir / "stubs/sort"), "/k8psh/bin/k8pshd");
}

TEST(Stubs, ForeignFileIsKeptWithoutOverwrite) {
    test::TempDir dir;
    write_stubs(two_servers(), options_for(dir));
    unlink((dir / "stubs/make").c_str());
    test::write_file(dir / "stubs/make", "mine");
    auto created = write_stubs(two_servers(), options_for(dir));
    EXPECT_TRUE(created.empty());
    EXPECT_EQ(test::read_file(dir / "stubs/make"), "mine");
}

TEST(Stubs, ForeignFileIsReplacedWithOverwrite) {
    test::TempDir dir;
    StubOptions options = options_for(dir);
    mkdir(options.directory.c_str(), 0755);
    test::write_file(dir / "stubs/make", "mine");
    options.overwrite = true;
    auto created = write_stubs(two_servers(), options);
    EXPECT_EQ(created, (std::vector<std::string>{dir / "stubs/make", dir / "stubs/sort"}));
    EXPECT_EQ(link_target(dir / "stubs/make"), "/k8psh/bin/k8pshd");
}

TEST(Stubs, RemoveStubsRemovesWhatWasCreated) {
    test::TempDir dir;
    auto created = write_stubs(two_servers(), options_for(dir));
    remove_stubs(created);
    EXPECT_FALSE(exists(dir / "stubs/make"));
    EXPECT_FALSE(exists(dir / "stubs/sort"));
}

}  // namespace
}  // namespace k8psh
