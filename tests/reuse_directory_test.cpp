// The reuse directory and its files are trusted only on open handles: a symlink, a directory
// others may enter or own, a file that is not ours is refused; the master's lock survives the
// race with a previous master removing it.
#include "reuse_directory.h"

#include "temp_dir.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace k8psh {
namespace {

TEST(ReuseDirectory, CreatedPrivate) {
    test::TempDir dir;
    std::string path = dir / "k8psh-0";
    std::string why;
    int fd = make_private_directory(path, why);
    ASSERT_GE(fd, 0) << why;
    close(fd);
    struct stat info {};
    ASSERT_EQ(stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0700u);
    fd = make_private_directory(path, why);
    EXPECT_GE(fd, 0) << "an existing private directory is fine: " << why;
    close(fd);
}

TEST(ReuseDirectory, AbsentIsENOENT) {
    test::TempDir dir;
    std::string why;
    EXPECT_EQ(open_private_directory(dir / "absent", why), -1);
    EXPECT_EQ(errno, ENOENT);
}

TEST(ReuseDirectory, OthersCouldEnterItSoNotUsed) {
    test::TempDir dir;
    std::string path = dir / "k8psh-0";
    ASSERT_EQ(mkdir(path.c_str(), 0700), 0);
    ASSERT_EQ(chmod(path.c_str(), 0755), 0);
    std::string why;
    EXPECT_EQ(make_private_directory(path, why), -1);
    EXPECT_NE(why.find("mode 0755"), std::string::npos) << why;
}

TEST(ReuseDirectory, SymlinkNotFollowed) {
    test::TempDir dir;
    std::string target = dir / "elsewhere";
    ASSERT_EQ(mkdir(target.c_str(), 0700), 0);
    std::string path = dir / "k8psh-0";
    ASSERT_EQ(symlink(target.c_str(), path.c_str()), 0);
    std::string why;
    EXPECT_EQ(make_private_directory(path, why), -1);
    EXPECT_EQ(open_private_directory(path, why), -1);
}

TEST(ReuseDirectory, AnotherUsersDirectoryNotUsed) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root to give a directory to another uid";
    }
    test::TempDir dir;
    std::string path = dir / "k8psh-0";
    ASSERT_EQ(mkdir(path.c_str(), 0700), 0);
    ASSERT_EQ(chown(path.c_str(), 65534, 65534), 0);
    std::string why;
    EXPECT_EQ(open_private_directory(path, why), -1);
    EXPECT_NE(why.find("owned by uid 65534"), std::string::npos) << why;
}

struct Directory {
    test::TempDir dir;
    int fd = -1;
    Directory() {
        std::string why;
        fd = make_private_directory(dir / "k8psh", why);
    }
    ~Directory() { close(fd); }
};

TEST(ReuseFile, SymlinkOrLooseFileRefused) {
    Directory d;
    ASSERT_GE(d.fd, 0);
    std::string why;
    ASSERT_EQ(symlinkat("/etc/passwd", d.fd, "planted.lock"), 0);
    EXPECT_EQ(open_private_file(d.fd, "planted.lock", O_RDWR | O_CREAT, why), -1);
    int loose = openat(d.fd, "loose.log", O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(loose, 0);
    fchmod(loose, 0644);
    close(loose);
    EXPECT_EQ(open_private_file(d.fd, "loose.log", O_WRONLY | O_APPEND, why), -1);
    ASSERT_EQ(mkdirat(d.fd, "dir.lock", 0700), 0);
    EXPECT_EQ(open_private_file(d.fd, "dir.lock", O_RDONLY, why), -1);
    int fd = open_private_file(d.fd, "fresh.lock", O_RDWR | O_CREAT, why);
    EXPECT_GE(fd, 0) << why;
    close(fd);
}

TEST(MasterLock, HeldByOneOnly) {
    Directory d;
    int first = take_master_lock(d.fd, "x.lock");
    ASSERT_GE(first, 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        _exit(take_master_lock(d.fd, "x.lock") < 0 ? 0 : 1);  // flock is per open file: a new one
    }
    int status = 0;
    waitpid(child, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 0) << "a second master got the lock";
    close(first);
}

TEST(PeerCredentials, OwnProcessIsUs) {
    int fds[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    std::string why;
    EXPECT_TRUE(peer_is_us(fds[0], why)) << why;
    close(fds[0]);
    close(fds[1]);
}

TEST(PeerCredentials, AnotherUidIsNot) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "needs root to listen as another uid";
    }
    test::TempDir dir;
    std::string path = dir / "planted.sock";
    ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
    int ready[2];
    int done[2];
    ASSERT_EQ(pipe(ready), 0);
    ASSERT_EQ(pipe(done), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // The planted listener: another uid, listening where a stub would connect.
        int listener = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        path.copy(address.sun_path, sizeof address.sun_path - 1);
        if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0 ||
            bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 || listen(listener, 1) != 0) {
            _exit(1);
        }
        (void)!write(ready[1], "r", 1);
        char byte;
        (void)!read(done[0], &byte, 1);  // until the parent is done
        _exit(0);
    }
    char byte = 0;
    ASSERT_EQ(read(ready[0], &byte, 1), 1);
    int client = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    path.copy(address.sun_path, sizeof address.sun_path - 1);
    ASSERT_EQ(connect(client, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
    std::string why;
    EXPECT_FALSE(peer_is_us(client, why));
    EXPECT_NE(why.find("uid 65534"), std::string::npos) << why;
    close(client);
    ASSERT_EQ(write(done[1], "d", 1), 1);
    waitpid(child, nullptr, 0);
    for (int fd : {ready[0], ready[1], done[0], done[1]}) {
        close(fd);
    }
}

}  // namespace
}  // namespace k8psh
