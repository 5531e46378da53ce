// Real commands through spawn_command: exit codes as a shell gives them, the command's own
// process group, and the merged stdout/stderr pipe. No mocks: these are the server's spawns.
#include "process.h"

#include "temp_dir.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace k8psh {
namespace {

SpawnRequest shell(const std::string &script) {
    SpawnRequest request;
    request.argv = {"/bin/sh", "-c", script};
    request.env = {{"PATH", "/usr/bin:/bin"}};
    return request;
}

// Everything the command writes to `fd` until it closes it (the fd is non-blocking).
std::string read_to_end(int fd) {
    std::string text;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, -1) < 0 && errno != EINTR) {
            return text;
        }
        char buffer[4096];
        ssize_t n = read(fd, buffer, sizeof buffer);
        if (n == 0) {
            return text;
        }
        if (n > 0) {
            text.append(buffer, static_cast<std::size_t>(n));
        } else if (errno != EAGAIN && errno != EINTR) {
            return text;
        }
    }
}

// Runs the request to its end; returns the shell-style exit code.
int run(const SpawnRequest &request) {
    Child child;
    SpawnFailure failure;
    if (!spawn_command(request, child, failure)) {
        return failure.exit_code;
    }
    // The pidfd turns readable when the command exits (these commands write nothing, so no pipe
    // fills); the descriptors close after the reap, which also closes the pidfd.
    int status = 0;
    while (!try_reap(child, status)) {
        pollfd p{child.pidfd, POLLIN, 0};
        poll(&p, 1, -1);
    }
    close_child_fds(child);
    return exit_code_of(status);
}

TEST(Process, ExitCodePassesThrough) {
    EXPECT_EQ(run(shell("exit 0")), 0);
    EXPECT_EQ(run(shell("exit 3")), 3);
}

TEST(Process, KilledBySignalIs128PlusN) {
    EXPECT_EQ(run(shell("kill -KILL $$")), 128 + SIGKILL);
    EXPECT_EQ(run(shell("kill -TERM $$")), 128 + SIGTERM);
}

// Under qemu-user (tools/test-arch sets K8PSH_EMULATED) vfork runs as a fork, so an exec
// failure is not reported back: the child ends with its 127 whatever the reason.
// Native ARM nodes report it as here; the emulated run checks only that the command fails.
bool emulated() {
    return std::getenv("K8PSH_EMULATED") != nullptr;
}

// A command that cannot start: the spawn must fail with `expected` and the errno `error`.
void expect_start_failure(const SpawnRequest &request, int expected, int error) {
    const std::string &executable = request.argv[0];
    Child child;
    SpawnFailure failure;
    if (!spawn_command(request, child, failure)) {
        EXPECT_EQ(failure.exit_code, expected) << executable;
        EXPECT_EQ(failure.error, error) << executable << ": " << strerror(failure.error);
        return;
    }
    int status = 0;
    while (!try_reap(child, status)) {
        pollfd p{child.pidfd, POLLIN, 0};
        poll(&p, 1, -1);
    }
    close_child_fds(child);
    if (emulated()) {
        EXPECT_EQ(exit_code_of(status), 127) << executable;
        GTEST_SKIP() << "qemu-user: the exec failure is the child's 127, not a spawn error";
    }
    ADD_FAILURE() << executable << " started (exit code " << exit_code_of(status) << ")";
}

void expect_start_failure(const std::string &executable, int expected, int error) {
    SpawnRequest request;
    request.argv = {executable};
    expect_start_failure(request, expected, error);
}

TEST(Process, MissingExecutableIs127) {
    expect_start_failure("/nonexistent/k8psh-test-command", 127, ENOENT);
}

TEST(Process, NonExecutableFileIs126) {
    test::TempDir dir;
    test::write_file(dir / "script", "#!/bin/sh\nexit 0\n");
    chmod((dir / "script").c_str(), 0644);
    expect_start_failure(dir / "script", 126, EACCES);
}

// The two failures only the started child sees, reported back from it: an executable file the
// kernel cannot run, and a working directory that is gone.
TEST(Process, AFailedExecInTheChildIsReportedWithItsErrno) {
    test::TempDir dir;
    test::write_file(dir / "garbage", std::string("\x7f"
                                                  "ELF but not really, and no #! either\n"));
    chmod((dir / "garbage").c_str(), 0755);
    expect_start_failure(dir / "garbage", 126, ENOEXEC);
}

TEST(Process, AMissingWorkingDirectoryIsReportedWithItsErrno) {
    test::TempDir dir;
    SpawnRequest request = shell("exit 0");
    request.directory = dir / "gone";
    expect_start_failure(request, 127, ENOENT);
}

// The server ignores SIGPIPE and keeps every signal blocked in its threads (its signalfd): a
// command inherits neither, as if a shell had started it.
TEST(Process, CommandStartsWithNoSignalBlockedOrIgnored) {
    sigset_t all;
    sigset_t previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    struct sigaction ignore {};
    struct sigaction previous_pipe {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &previous_pipe);
    SpawnRequest request;
    request.argv = {"/bin/cat", "/proc/self/status"};
    Child child;
    SpawnFailure failure;
    bool started = spawn_command(request, child, failure);
    sigaction(SIGPIPE, &previous_pipe, nullptr);
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    ASSERT_TRUE(started) << strerror(failure.error);
    std::string status = read_to_end(child.stdout_fd);
    reap(child);
    close_child_fds(child);
    EXPECT_NE(status.find("\nSigBlk:\t0000000000000000\n"), std::string::npos) << status;
    EXPECT_NE(status.find("\nSigIgn:\t0000000000000000\n"), std::string::npos) << status;
}

TEST(Process, CommandLeadsItsOwnProcessGroupAndGetsTheGroupSignal) {
    // `cat` waits on stdin, which stays open: the command is surely running when checked.
    SpawnRequest request;
    request.argv = {"/bin/cat"};
    Child child;
    SpawnFailure failure;
    ASSERT_TRUE(spawn_command(request, child, failure));
    // Under qemu-user the spawn returns before the child has run its setup (the vfork is a fork
    // there), so the group is looked at again until it is set, for at most a second.
    for (int i = 0; emulated() && i < 1000 && getpgid(child.pid) != child.pid; ++i) {
        usleep(1000);
    }
    EXPECT_EQ(getpgid(child.pid), child.pid);
    EXPECT_NE(getpgid(child.pid), getpgrp());
    signal_group(child, SIGTERM);
    reap(child);
    close_child_fds(child);
}

TEST(Process, WorkingDirectoryIsApplied) {
    test::TempDir dir;
    SpawnRequest request = shell("pwd");
    request.directory = dir.path();
    Child child;
    SpawnFailure failure;
    ASSERT_TRUE(spawn_command(request, child, failure));
    std::string out = read_to_end(child.stdout_fd);
    reap(child);
    close_child_fds(child);
    EXPECT_EQ(out, dir.path() + "\n");
}

TEST(Process, MergedStderrKeepsTheCommandsOrder) {
    SpawnRequest request = shell("echo one; echo two >&2; echo three");
    request.merge_stderr = true;
    Child child;
    SpawnFailure failure;
    ASSERT_TRUE(spawn_command(request, child, failure));
    EXPECT_EQ(child.stderr_fd, -1);
    std::string out = read_to_end(child.stdout_fd);
    reap(child);
    close_child_fds(child);
    EXPECT_EQ(out, "one\ntwo\nthree\n");
}

// Orphans come to a process only as PID 1 or a subreaper: the server looks for them (and
// listens for SIGCHLD) only then (README: PID 1 and zombies).
TEST(Process, OrphansComeHereOnlyAsPid1OrASubreaper) {
    ASSERT_NE(getpid(), 1) << "the unit tests run under a parent";
    EXPECT_FALSE(orphans_come_here());
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
        // qemu-user does not emulate it (EINVAL): there the server as PID 1 is what reaps.
        GTEST_SKIP() << "PR_SET_CHILD_SUBREAPER: " << strerror(errno);
    }
    EXPECT_TRUE(orphans_come_here());
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 0), 0) << strerror(errno);
    EXPECT_FALSE(orphans_come_here());
}

}  // namespace
}  // namespace k8psh
