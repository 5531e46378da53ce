#include "init_reaper.h"

#include "exit_codes.h"
#include "log.h"
#include "process.h"
#include "sys.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace k8psh {
namespace {

// What a container runtime or a terminal sends that belongs to CMD.
constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

pid_t start(const std::vector<std::string> &command, const sigset_t &mask, const sigset_t &defaults) {
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &mask);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    std::vector<char *> argv = exec_array(command);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, argv[0], nullptr, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        spdlog::error("cannot execute '{}': {}", command[0], strerror(rc));
        return rc == ENOENT ? -exit_code::kUnknownCommand : -exit_code::kCannotExecute;
    }
    return pid;
}

}  // namespace

int run_init(const std::vector<std::string> &command) {
    // Also where we are not PID 1 (a shared process namespace, a test): orphans of CMD's tree
    // come to us rather than past us.
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigset_t handled;
    sigemptyset(&handled);
    sigaddset(&handled, SIGCHLD);
    for (int sig : kForwarded) {
        sigaddset(&handled, sig);
    }
    // Blocked before CMD exists, so no signal falls between its start and our first read.
    sigset_t original;
    sigprocmask(SIG_BLOCK, &handled, &original);
    int signal_fd = signalfd(-1, &handled, SFD_CLOEXEC);
    if (signal_fd < 0) {
        spdlog::error("cannot create a signalfd: {}", strerror(errno));
        return exit_code::kCannotExecute;
    }
    pid_t child = start(command, original, handled);
    if (child < 0) {
        return -child;
    }
    for (;;) {
        signalfd_siginfo info{};
        ssize_t n = read(signal_fd, &info, sizeof info);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n != static_cast<ssize_t>(sizeof info)) {
            spdlog::error("cannot read signals: {}", strerror(errno));
            return exit_code::kConnection;
        }
        int signal = static_cast<int>(info.ssi_signo);
        if (signal != SIGCHLD) {
            kill(child, signal);
            continue;
        }
        // SIGCHLDs coalesce: one may stand for many exits.
        int status = 0;
        for (pid_t pid; (pid = waitpid(-1, &status, WNOHANG)) > 0;) {
            if (pid == child) {
                // Whatever CMD left running ends with us (PID 1's exit ends its namespace).
                return exit_code_of(status);
            }
        }
    }
}

}  // namespace k8psh
