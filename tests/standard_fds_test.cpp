// A process started with stdin, stdout or stderr closed gets /dev/null there: reads see EOF,
// writes are discarded, and the next file opened does not land on 0, 1 or 2.
#include "standard_fds.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <initializer_list>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace k8psh {
namespace {

// In a child with the given fds of 0–2 closed: each of them must come back as /dev/null, open
// for reading (0) or writing (1, 2), and the next file opened must land above 2. The child's
// exit code is the number of failures.
int in_child_with_closed(std::initializer_list<int> closed) {
    struct stat null {};
    stat("/dev/null", &null);
    pid_t child = fork();
    if (child == 0) {
        for (int fd : closed) {
            close(fd);
        }
        fill_closed_standard_fds();
        int failures = 0;
        for (int fd : closed) {
            struct stat info {};
            int flags = fcntl(fd, F_GETFL);
            failures += flags < 0 || (flags & O_ACCMODE) != (fd == 0 ? O_RDONLY : O_WRONLY);
            failures += fstat(fd, &info) != 0 || info.st_rdev != null.st_rdev;
        }
        int next = open("/dev/null", O_RDONLY);
        failures += next <= 2;
        _exit(failures);
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(StandardFds, ClosedOnesBecomeDevNull) {
    EXPECT_EQ(in_child_with_closed({0}), 0);
    EXPECT_EQ(in_child_with_closed({1}), 0);
    EXPECT_EQ(in_child_with_closed({0, 1, 2}), 0);
    EXPECT_EQ(in_child_with_closed({1, 2}), 0);
}

TEST(StandardFds, OpenOnesAreLeftAlone) {
    int before = fcntl(1, F_GETFL);
    struct stat a {};
    fstat(1, &a);
    fill_closed_standard_fds();
    struct stat b {};
    fstat(1, &b);
    EXPECT_EQ(fcntl(1, F_GETFL), before);
    EXPECT_EQ(a.st_ino, b.st_ino);
}

}  // namespace
}  // namespace k8psh
