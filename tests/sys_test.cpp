// The system helpers every layer leans on, against real descriptors, pipes and directories:
// a descriptor owner that really closes, whole writes through a full pipe, file reads that say
// why they failed, and directories with exactly the mode asked for.
#include "sys.h"

#include "temp_dir.h"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <string>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace k8psh {
namespace {

bool is_open(int fd) {
    errno = 0;
    return fcntl(fd, F_GETFD) != -1;
}

bool is_closed(int fd) {
    errno = 0;
    return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

// A fresh descriptor of our own (a pipe's read end; the write end is closed at once).
int open_descriptor() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        return -1;
    }
    close(fds[1]);
    return fds[0];
}

TEST(Sys, UniqueFdClosesItsDescriptorAtScopeEnd) {
    const int fd = open_descriptor();
    ASSERT_GE(fd, 0);
    {
        UniqueFd owner(fd);
        EXPECT_EQ(owner.get(), fd);
        EXPECT_TRUE(is_open(fd));
    }
    EXPECT_TRUE(is_closed(fd));
}

TEST(Sys, UniqueFdReleaseHandsTheDescriptorBackOpen) {
    const int fd = open_descriptor();
    ASSERT_GE(fd, 0);
    {
        UniqueFd owner(fd);
        EXPECT_EQ(owner.release(), fd);
        EXPECT_EQ(owner.get(), -1);
    }
    EXPECT_TRUE(is_open(fd));
    close(fd);
}

TEST(Sys, UniqueFdResetClosesTheOldDescriptor) {
    const int first = open_descriptor();
    const int second = open_descriptor();
    ASSERT_GE(first, 0);
    ASSERT_GE(second, 0);
    {
        UniqueFd owner(first);
        owner.reset(second);
        EXPECT_TRUE(is_closed(first));
        EXPECT_EQ(owner.get(), second);
        EXPECT_TRUE(is_open(second));
    }
    EXPECT_TRUE(is_closed(second));
}

TEST(Sys, UniqueFdMoveKeepsOneOwner) {
    const int fd = open_descriptor();
    ASSERT_GE(fd, 0);
    UniqueFd outer;
    {
        UniqueFd inner(fd);
        UniqueFd moved(std::move(inner));
        EXPECT_EQ(inner.get(), -1);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
        EXPECT_EQ(moved.get(), fd);
        outer = std::move(moved);
    }
    // Both earlier owners are gone; the descriptor lives on in the last one.
    EXPECT_TRUE(is_open(fd));
    EXPECT_EQ(outer.get(), fd);

    const int other = open_descriptor();
    ASSERT_GE(other, 0);
    outer = UniqueFd(other);  // move-assigning closes what it held before
    EXPECT_TRUE(is_closed(fd));
    EXPECT_EQ(outer.get(), other);
}

TEST(Sys, CloseFdClosesAndMarksClosed) {
    int fd = open_descriptor();
    const int number = fd;
    ASSERT_GE(fd, 0);
    close_fd(fd);
    EXPECT_EQ(fd, -1);
    EXPECT_TRUE(is_closed(number));
    close_fd(fd);  // a second call is harmless
    EXPECT_EQ(fd, -1);
}

TEST(Sys, WriteAllDeliversEverythingThroughAFullNonBlockingPipe) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    // Far more than a pipe holds (64 KiB by default, at most 1 MiB unprivileged), so the writer
    // meets EAGAIN many times and must wait for the reader.
    const int capacity = fcntl(write_end.get(), F_GETPIPE_SZ);
    ASSERT_GT(capacity, 0);
    std::string data(static_cast<std::size_t>(capacity) * 8 + 12345, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<char>((i * 131) ^ (i >> 9));
    }
    ASSERT_EQ(fcntl(read_end.get(), F_SETFL, 0), 0);  // the reader blocks
    std::string received;
    std::thread reader([&] {
        char buffer[4096];
        for (;;) {
            ssize_t n = read(read_end.get(), buffer, sizeof buffer);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                return;
            }
            received.append(buffer, static_cast<std::size_t>(n));
        }
    });
    const bool written = write_all(write_end.get(), data.data(), data.size());
    write_end.reset();
    reader.join();
    EXPECT_TRUE(written);
    EXPECT_EQ(received.size(), data.size());
    EXPECT_TRUE(received == data);
}

TEST(Sys, WriteAllFailsWhenNobodyReads) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    UniqueFd write_end(fds[1]);
    close(fds[0]);
    // SIGPIPE is ignored by the server and the client; here too, so the failure shows as EPIPE.
    struct sigaction ignore {
    }, previous{};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &previous);
    errno = 0;
    const bool written = write_all(write_end.get(), "x", 1);
    const int error = errno;
    sigaction(SIGPIPE, &previous, nullptr);
    EXPECT_FALSE(written);
    EXPECT_EQ(error, EPIPE);
}

TEST(Sys, ReadAllReadsExactlyAndFailsAtEndOfFile) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    ASSERT_EQ(write(write_end.get(), "abcdef", 6), 6);
    write_end.reset();

    char four[4];
    ASSERT_TRUE(read_all(read_end.get(), four, sizeof four));
    EXPECT_EQ(std::string(four, 4), "abcd");
    // Two bytes are left but four are asked for: end of file comes first.
    char more[4];
    EXPECT_FALSE(read_all(read_end.get(), more, sizeof more));
}

TEST(Sys, ReadFileReturnsTheContent) {
    test::TempDir dir;
    std::string content = "first line\n";
    content += std::string(40000, 'z');  // more than one read's buffer
    content.push_back('\0');
    content += "after a NUL";
    test::write_file(dir / "file", content);
    std::string text = "stale";
    ASSERT_TRUE(read_file(dir / "file", text));
    EXPECT_EQ(text.size(), content.size());
    EXPECT_TRUE(text == content);
}

TEST(Sys, ReadFileStopsAtMaxBytes) {
    test::TempDir dir;
    test::write_file(dir / "file", std::string(50000, 'a') + "tail");
    std::string text;
    ASSERT_TRUE(read_file(dir / "file", text, 20000));
    EXPECT_EQ(text, std::string(20000, 'a'));
}

// Files whose size stat does not tell (0 in /proc) are read to their end all the same.
TEST(Sys, ReadFileOfAProcFile) {
    std::string text;
    ASSERT_TRUE(read_file("/proc/self/status", text));
    EXPECT_EQ(text.rfind("Name:", 0), 0u);
    EXPECT_NE(text.find("\nPid:"), std::string::npos);
}

TEST(Sys, MappedFileHasTheBytesOrSaysWhyNot) {
    test::TempDir dir;
    const std::string content = std::string(10000, 'm') + "\nend";
    test::write_file(dir / "file", content);
    MappedFile mapped;
    ASSERT_TRUE(mapped.map(dir / "file"));
    EXPECT_EQ(mapped.text(), content);
    errno = 0;
    EXPECT_FALSE(MappedFile().map(dir / "missing"));
    EXPECT_EQ(errno, ENOENT);
    EXPECT_FALSE(MappedFile().map(dir.path()));
    EXPECT_EQ(errno, EISDIR);
    test::write_file(dir / "empty", "");
    EXPECT_FALSE(MappedFile().map(dir / "empty"));  // read instead: there is nothing to map
}

TEST(Sys, ReadFileOfADirectoryFailsWithEisdir) {
    test::TempDir dir;
    std::string text;
    errno = 0;
    EXPECT_FALSE(read_file(dir.path(), text));
    EXPECT_EQ(errno, EISDIR);
}

TEST(Sys, ReadFileOfAMissingFileFailsWithEnoent) {
    test::TempDir dir;
    std::string text = "stale";
    errno = 0;
    EXPECT_FALSE(read_file(dir / "missing", text));
    EXPECT_EQ(errno, ENOENT);
    EXPECT_TRUE(text.empty());
}

// Restores the process umask when the test ends, also when an assertion fails.
class UmaskGuard {
public:
    explicit UmaskGuard(mode_t mask) : previous_(umask(mask)) {}
    ~UmaskGuard() { umask(previous_); }
    UmaskGuard(const UmaskGuard &) = delete;
    UmaskGuard &operator=(const UmaskGuard &) = delete;

private:
    mode_t previous_;
};

TEST(Sys, MakeDirectoriesGivesEveryLevelExactlyTheModeDespiteTheUmask) {
    test::TempDir dir;
    UmaskGuard guard(077);
    const std::string deep = dir / "a/b/c";
    make_directories(deep, 0755);
    EXPECT_EQ(test::file_mode(dir / "a"), 0755u);
    EXPECT_EQ(test::file_mode(dir / "a/b"), 0755u);
    EXPECT_EQ(test::file_mode(deep), 0755u);
    // An existing directory is fine, and its mode is left as it is.
    ASSERT_EQ(chmod(deep.c_str(), 0700), 0);
    EXPECT_NO_THROW(make_directories(deep, 0755));
    EXPECT_EQ(test::file_mode(deep), 0700u);
}

TEST(Sys, MakeDirectoriesUnderARegularFileThrowsNamingThePath) {
    test::TempDir dir;
    test::write_file(dir / "file", "x");
    const std::string path = dir / "file/sub";
    try {
        make_directories(path, 0755);
        FAIL() << "expected FileError";
    } catch (const FileError &error) {
        const std::string message = error.what();
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find("cannot create directory"), std::string::npos) << message;
    }
}

TEST(Sys, MakeDirectoriesOnARegularFileThrows) {
    test::TempDir dir;
    test::write_file(dir / "file", "x");
    EXPECT_THROW(make_directories(dir / "file", 0755), FileError);
}

TEST(Sys, ParentDirectoryIsTheDirectoryPartOrDot) {
    EXPECT_EQ(parent_directory("/a/b/c"), "/a/b");
    EXPECT_EQ(parent_directory("a/b"), "a");
    EXPECT_EQ(parent_directory("/file"), "/");
    EXPECT_EQ(parent_directory("file"), ".");
    EXPECT_EQ(parent_directory(""), ".");
}

}  // namespace
}  // namespace k8psh
