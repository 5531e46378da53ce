// Files and links that appear whole or not at all, in a real directory: the target is replaced
// with the asked-for mode, an abandoned write leaves neither a change nor a temporary, and a
// symlink planted at the target is replaced instead of written through.
#include "atomic_file.h"

#include "temp_dir.h"

#include <cerrno>
#include <climits>
#include <gtest/gtest.h>
#include <set>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace k8psh {
namespace {

std::string link_target(const std::string &link) {
    char buffer[PATH_MAX];
    const ssize_t n = readlink(link.c_str(), buffer, sizeof buffer);
    return n < 0 ? std::string() : std::string(buffer, static_cast<std::size_t>(n));
}

bool is_symlink(const std::string &path) {
    struct stat st {};
    return lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

TEST(AtomicFile, CommitReplacesTheTargetWithTheMode) {
    test::TempDir dir;
    const std::string target = dir / "key";
    test::write_file(target, "old content that is longer than the new one\n");
    ASSERT_EQ(chmod(target.c_str(), 0644), 0);
    {
        AtomicFile file(target, 0600);
        file.write(std::string_view("new "));
        const unsigned char bytes[] = {'k', 'e', 'y', '\n'};
        file.write(std::span<const unsigned char>(bytes, sizeof bytes));
        // Until the commit, the target still has its old content.
        EXPECT_EQ(test::read_file(target), "old content that is longer than the new one\n");
        file.commit();
    }
    EXPECT_EQ(test::read_file(target), "new key\n");
    EXPECT_EQ(test::file_mode(target), 0600u);
    EXPECT_EQ(test::list_directory(dir.path()), std::set<std::string>{"key"});
}

TEST(AtomicFile, ModeIsExactDespiteTheUmask) {
    test::TempDir dir;
    const mode_t previous = umask(077);
    {
        AtomicFile file(dir / "tool", 0755);
        file.write(std::string_view("#!/bin/sh\n"));
        file.commit();
    }
    umask(previous);
    EXPECT_EQ(test::file_mode(dir / "tool"), 0755u);
}

TEST(AtomicFile, CreatesAMissingTarget) {
    test::TempDir dir;
    {
        AtomicFile file(dir / "new", 0644);
        file.write(std::string_view("hello"));
        file.commit();
    }
    EXPECT_EQ(test::read_file(dir / "new"), "hello");
    EXPECT_EQ(test::file_mode(dir / "new"), 0644u);
}

TEST(AtomicFile, WithoutCommitTheTargetIsUntouchedAndNoTemporaryIsLeft) {
    test::TempDir dir;
    const std::string target = dir / "key";
    test::write_file(target, "original");
    ASSERT_EQ(chmod(target.c_str(), 0644), 0);
    {
        AtomicFile file(target, 0600);
        file.write(std::string_view("half written"));
        // The temporary exists while the write is under way...
        EXPECT_EQ(test::list_directory(dir.path()).size(), 2u);
    }
    // ...and is gone after an abandoned one.
    EXPECT_EQ(test::read_file(target), "original");
    EXPECT_EQ(test::file_mode(target), 0644u);
    EXPECT_EQ(test::list_directory(dir.path()), std::set<std::string>{"key"});
}

TEST(AtomicFile, AbandonedAfterFinishLeavesNoTemporary) {
    test::TempDir dir;
    {
        AtomicFile file(dir / "key", 0600);
        file.write(std::string_view("content"));
        file.finish();
    }
    EXPECT_TRUE(test::list_directory(dir.path()).empty());
}

TEST(AtomicFile, APlantedSymlinkIsReplacedNotFollowed) {
    test::TempDir dir;
    const std::string victim = dir / "victim";
    test::write_file(victim, "must stay");
    ASSERT_EQ(chmod(victim.c_str(), 0644), 0);
    const std::string target = dir / "key";
    ASSERT_EQ(symlink(victim.c_str(), target.c_str()), 0);
    {
        AtomicFile file(target, 0600);
        file.write(std::string_view("secret"));
        file.commit();
    }
    EXPECT_FALSE(is_symlink(target));
    EXPECT_EQ(test::read_file(target), "secret");
    EXPECT_EQ(test::file_mode(target), 0600u);
    EXPECT_EQ(test::read_file(victim), "must stay");
    EXPECT_EQ(test::file_mode(victim), 0644u);
}

TEST(AtomicFile, ADirectoryThatCannotBeWrittenThrowsNamingTheTarget) {
    test::TempDir dir;
    const std::string target = dir / "missing/key";
    try {
        AtomicFile file(target, 0600);
        FAIL() << "expected FileError";
    } catch (const FileError &error) {
        const std::string message = error.what();
        EXPECT_NE(message.find(target), std::string::npos) << message;
        EXPECT_NE(message.find("cannot write"), std::string::npos) << message;
    }
}

TEST(AtomicFile, ReplaceSymlinkCreatesAndReplacesLinksAndFiles) {
    test::TempDir dir;
    const std::string link = dir / "gcc";
    ASSERT_TRUE(replace_symlink("/first/target", link));
    EXPECT_EQ(link_target(link), "/first/target");

    ASSERT_TRUE(replace_symlink("/second/target", link));
    EXPECT_EQ(link_target(link), "/second/target");

    // A regular file in the way is replaced as well.
    test::write_file(dir / "make", "a file");
    ASSERT_TRUE(replace_symlink("k8psh", dir / "make"));
    EXPECT_TRUE(is_symlink(dir / "make"));
    EXPECT_EQ(link_target(dir / "make"), "k8psh");

    EXPECT_EQ(test::list_directory(dir.path()), (std::set<std::string>{"gcc", "make"}));
}

TEST(AtomicFile, ReplaceSymlinkDoesNotWriteThroughTheOldLink) {
    test::TempDir dir;
    test::write_file(dir / "victim", "must stay");
    ASSERT_EQ(symlink((dir / "victim").c_str(), (dir / "link").c_str()), 0);
    ASSERT_TRUE(replace_symlink("/elsewhere", dir / "link"));
    EXPECT_EQ(link_target(dir / "link"), "/elsewhere");
    EXPECT_EQ(test::read_file(dir / "victim"), "must stay");
    EXPECT_FALSE(is_symlink(dir / "victim"));
}

TEST(AtomicFile, ReplaceSymlinkFailureSetsErrnoAndLeavesNoTemporary) {
    test::TempDir dir;
    // A non-empty directory in the way cannot be renamed over.
    ASSERT_EQ(mkdir((dir / "busy").c_str(), 0755), 0);
    test::write_file(dir / "busy/file", "x");
    errno = 0;
    EXPECT_FALSE(replace_symlink("/target", dir / "busy"));
    EXPECT_NE(errno, 0);
    EXPECT_EQ(test::list_directory(dir.path()), std::set<std::string>{"busy"});

    errno = 0;
    EXPECT_FALSE(replace_symlink("/target", dir / "missing/link"));
    EXPECT_EQ(errno, ENOENT);
}

}  // namespace
}  // namespace k8psh
