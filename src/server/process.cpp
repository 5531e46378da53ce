#include "process.h"

#include "executable_lookup.h"
#include "sys.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <fcntl.h>
#include <mutex>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unordered_set>

namespace k8psh {
namespace {

// The commands started and not yet reaped. Starting a command and recording its pid happen under
// the lock, so the orphan reaper can never see a command's exit before it knows the pid is one.
std::mutex g_children_mutex;
std::unordered_set<pid_t> g_children;

void forget_child(pid_t pid) {
    {
        std::lock_guard lock(g_children_mutex);
        g_children.erase(pid);
    }
    // An orphan that exited behind this command's zombie was left for now: take it.
    reap_orphans();
}

// Owns the spawn attributes so every exit path releases them.
class SpawnSetup {
public:
    SpawnSetup() {
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    SpawnSetup(const SpawnSetup &) = delete;
    SpawnSetup &operator=(const SpawnSetup &) = delete;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
};

}  // namespace

bool spawn_command(const SpawnRequest &request, Child &child, SpawnFailure &failure) {
    int in[2] = {-1, -1};
    int out[2] = {-1, -1};
    int err[2] = {-1, -1};
    auto fail = [&](int error) {
        for (int *fd : {&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]}) {
            close_fd(*fd);
        }
        failure.error = error;
        failure.exit_code = (error == ENOENT || error == ENOTDIR) ? 127 : 126;
        return false;
    };

    SpawnSetup setup;
    const bool pty = !request.pty_path.empty();
    if (pty) {
        // posix_spawn has no TIOCSCTTY, so the slave is opened by path after setsid: the first
        // terminal a session leader opens becomes its controlling terminal (Linux).
        posix_spawn_file_actions_addopen(&setup.actions, 0, request.pty_path.c_str(), O_RDWR, 0);
        posix_spawn_file_actions_adddup2(&setup.actions, 0, 1);
        posix_spawn_file_actions_adddup2(&setup.actions, 0, 2);
    } else {
        if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
            (!request.merge_stderr && pipe2(err, O_CLOEXEC) != 0)) {
            return fail(errno);
        }
        posix_spawn_file_actions_adddup2(&setup.actions, in[0], 0);
        posix_spawn_file_actions_adddup2(&setup.actions, out[1], 1);
        posix_spawn_file_actions_adddup2(&setup.actions, request.merge_stderr ? out[1] : err[1], 2);
    }
    // Other sessions' sockets and pipes are not the command's business, whatever their flags.
    posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
    if (!request.directory.empty()) {
        posix_spawn_file_actions_addchdir_np(&setup.actions, request.directory.c_str());
    }

    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (pty) {
        flags |= POSIX_SPAWN_SETSID;
    } else {
        flags |= POSIX_SPAWN_SETPGROUP;
        posix_spawnattr_setpgroup(&setup.attr, 0);
    }
    posix_spawnattr_setflags(&setup.attr, flags);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&setup.attr, &none);
    // The server ignores SIGPIPE; the command must not inherit that.
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGWINCH}) {
        sigaddset(&defaults, sig);
    }
    posix_spawnattr_setsigdefault(&setup.attr, &defaults);

    std::vector<char *> argv = exec_array(request.argv);
    std::vector<std::string> env_strings;
    env_strings.reserve(request.env.size());
    for (const auto &[name, value] : request.env) {
        env_strings.push_back(std::string(name).append("=").append(value));
    }
    std::vector<char *> envp = exec_array(env_strings);

    std::optional<std::string> command_path;
    for (const auto &[name, value] : request.env) {
        if (name == "PATH") {
            command_path = value;
        }
    }
    const char *server_path = std::getenv("PATH");
    ExecutableLookup executable = find_executable(
        request.argv[0], command_path, server_path != nullptr ? server_path : "/usr/local/bin:/usr/bin:/bin");
    if (executable.path.empty()) {
        return fail(executable.error);
    }
    pid_t pid = -1;
    {
        std::lock_guard lock(g_children_mutex);
        int rc = posix_spawn(&pid, executable.path.c_str(), &setup.actions, &setup.attr, argv.data(), envp.data());
        if (rc != 0) {
            return fail(rc);
        }
        g_children.insert(pid);
    }
    child = Child{};
    child.pid = pid;
    // Raw syscall: glibc 2.36's <sys/pidfd.h> lacks C++ linkage.
    child.pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    if (!pty) {
        close_fd(in[0]);
        close_fd(out[1]);
        close_fd(err[1]);
        child.stdin_fd = in[1];
        child.stdout_fd = out[0];
        child.stderr_fd = err[0];
        for (int fd : {child.stdin_fd, child.stdout_fd, child.stderr_fd}) {
            if (fd >= 0) {
                fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
            }
        }
    }
    return true;
}

void signal_group(const Child &child, int signal) {
    if (child.pid <= 0) {
        return;
    }
    if (kill(-child.pid, signal) != 0) {
        kill(child.pid, signal);
    }
}

bool try_reap(Child &child, int &status) {
    if (child.pid <= 0) {
        return false;
    }
    pid_t rc = waitpid(child.pid, &status, WNOHANG);
    if (rc == child.pid) {
        close_fd(child.pidfd);
        forget_child(child.pid);
        return true;
    }
    return false;
}

void reap(Child &child) {
    int status = 0;
    while (waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
    }
    forget_child(child.pid);
}

void reap_orphans() {
    std::lock_guard lock(g_children_mutex);
    for (;;) {
        // WNOWAIT: look first. The oldest zombie comes first; when it is a command, its session
        // reaps it soon and calls us again for whatever waits behind it.
        siginfo_t info{};
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0) {
            return;
        }
        if (g_children.count(info.si_pid) != 0) {
            return;
        }
        waitpid(info.si_pid, nullptr, WNOHANG);
    }
}

void close_child_fds(Child &child) {
    close_fd(child.stdin_fd);
    close_fd(child.stdout_fd);
    close_fd(child.stderr_fd);
    close_fd(child.pidfd);
}

int exit_code_of(int status) {
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

}  // namespace k8psh
