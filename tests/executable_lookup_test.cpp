// How a configured executable is found: the command's PATH, else the server's, never the
// working directory.
#include "executable_lookup.h"
#include "temp_dir.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <unistd.h>

namespace k8psh {
namespace {

class ExecutableLookupTest : public ::testing::Test {
protected:
    // An executable file DIR/NAME (mode 0755, or `mode`).
    std::string make(const std::string &dir, const std::string &name, unsigned mode = 0755) {
        std::filesystem::create_directories(dir_ / dir);
        std::string path = dir_ / (dir + "/" + name);
        test::write_file(path, "#!/bin/sh\n");
        chmod(path.c_str(), mode);
        return path;
    }
    test::TempDir dir_;
};

TEST_F(ExecutableLookupTest, PathWithSlashIsUsedAsWritten) {
    EXPECT_EQ(find_executable("/no/such/tool", std::nullopt, "").path, "/no/such/tool");
    EXPECT_EQ(find_executable("bin/tool", std::string("/x"), "/y").path, "bin/tool");
}

TEST_F(ExecutableLookupTest, CommandPathWinsOverServerPath) {
    const std::string client = make("client", "tool");
    const std::string server = make("server", "tool");
    EXPECT_EQ(find_executable("tool", dir_ / "client", dir_ / "server").path, client);
    EXPECT_EQ(find_executable("tool", std::nullopt, dir_ / "server").path, server);
    // A PATH the command receives replaces the server's entirely, as upstream's execvp did.
    EXPECT_EQ(find_executable("tool", dir_ / "empty", dir_ / "server").error, ENOENT);
}

TEST_F(ExecutableLookupTest, EntriesInOrderFirstMatchWins) {
    make("a", "other");
    const std::string b = make("b", "tool");
    make("c", "tool");
    const std::string search = dir_ / "a" + ":" + dir_ / "b" + ":" + dir_ / "c";
    EXPECT_EQ(find_executable("tool", search, "").path, b);
    EXPECT_EQ(find_executable("tool", dir_ / "b/", "").path, dir_ / "b/tool");  // trailing slash
}

TEST_F(ExecutableLookupTest, RelativeEmptyAndDotEntriesAreSkipped) {
    make("ws", "tool");
    const std::string old_cwd = std::filesystem::current_path();
    ASSERT_EQ(chdir((dir_ / "ws").c_str()), 0);
    // Each of these would find ./tool in a working-directory lookup.
    for (const std::string search : {"", ".", ":", "ws", "./", "::."}) {
        EXPECT_EQ(find_executable("tool", search, "").error, ENOENT) << "[" << search << "]";
        EXPECT_EQ(find_executable("tool", std::nullopt, search).error, ENOENT) << "[" << search << "]";
    }
    ASSERT_EQ(chdir(old_cwd.c_str()), 0);
}

TEST_F(ExecutableLookupTest, NotExecutableIsEaccesUnlessALaterEntryHasOne) {
    make("plain", "tool", 0644);
    EXPECT_EQ(find_executable("tool", dir_ / "plain", "").error, EACCES);
    const std::string good = make("good", "tool");
    EXPECT_EQ(find_executable("tool", dir_ / "plain" + ":" + dir_ / "good", "").path, good);
    std::filesystem::create_directories(dir_ / "dirs/tool");  // a directory is not a candidate
    EXPECT_EQ(find_executable("tool", dir_ / "dirs", "").error, ENOENT);
    EXPECT_EQ(find_executable("", dir_ / "good", "").error, ENOENT);
}

}  // namespace
}  // namespace k8psh
