#include "process.h"

#include "executable_lookup.h"
#include "sys.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <optional>
#include <fcntl.h>
#include <mutex>
#include <pthread.h>
#include <sys/prctl.h>
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
std::atomic<bool> g_orphans_come_here{true};

void forget_child(pid_t pid) {
    {
        std::lock_guard lock(g_children_mutex);
        g_children.erase(pid);
    }
    // An orphan that exited behind this command's zombie was left for now: take it.
    reap_orphans();
}

// The dispositions a command starts with whatever the server set: the server ignores SIGPIPE,
// and none of these may stay ignored or handled in the command.
constexpr int kDefaultSignals[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGWINCH};

// Everything the child needs, prepared before vfork: the child makes system calls and nothing
// else (no allocation, no locks), because it runs on the server thread's memory and stack.
struct ChildPlan {
    const char *path = nullptr;
    char *const *argv = nullptr;
    char *const *envp = nullptr;
    const char *directory = nullptr;  // nullptr: the server's own
    const char *pty_path = nullptr;   // nullptr: the three pipe ends below are stdin, stdout, stderr
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
};

// The child of vfork, until execve. Its signals are all blocked (the parent blocked them before
// vfork), so no handler can run here before the dispositions are reset. Fds 0–2 are open in the
// server (main fills them), so every pipe end and the terminal opened here are above 2 and no
// dup2 below overwrites a source it still needs. A failure leaves its errno where the suspended
// parent reads it once this process has exited (qemu-user runs vfork as a fork: there only the
// 127 arrives, as with glibc's posix_spawn).
[[noreturn]] void run_child(const ChildPlan &plan, volatile int *exec_error) {
    bool ready = false;
    if (plan.pty_path != nullptr) {
        // The first terminal a session leader opens becomes its controlling terminal (Linux).
        int fd = setsid() < 0 ? -1 : open(plan.pty_path, O_RDWR);
        ready = fd >= 0 && dup2(fd, 0) == 0 && dup2(fd, 1) == 1 && dup2(fd, 2) == 2;
    } else {
        ready = setpgid(0, 0) == 0 && dup2(plan.stdin_fd, 0) == 0 && dup2(plan.stdout_fd, 1) == 1 &&
                dup2(plan.stderr_fd, 2) == 2;
    }
    if (ready) {
        // Other sessions' sockets and pipes are not the command's business, whatever their flags.
        closefrom(3);
        ready = plan.directory == nullptr || chdir(plan.directory) == 0;
    }
    if (ready) {
        struct sigaction default_action {};
        default_action.sa_handler = SIG_DFL;
        for (int sig : kDefaultSignals) {
            sigaction(sig, &default_action, nullptr);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        execve(plan.path, plan.argv, plan.envp);
    }
    *exec_error = errno != 0 ? errno : EINVAL;
    _exit(127);
}

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

    ChildPlan plan;
    const bool pty = !request.pty_path.empty();
    if (pty) {
        plan.pty_path = request.pty_path.c_str();
    } else {
        if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 ||
            (!request.merge_stderr && pipe2(err, O_CLOEXEC) != 0)) {
            return fail(errno);
        }
        plan.stdin_fd = in[0];
        plan.stdout_fd = out[1];
        plan.stderr_fd = request.merge_stderr ? out[1] : err[1];
    }
    if (!request.directory.empty()) {
        plan.directory = request.directory.c_str();
    }

    std::vector<char *> argv = exec_array(request.argv);
    std::vector<std::string> env_strings;
    env_strings.reserve(request.env.size());
    for (const auto &[name, value] : request.env) {
        env_strings.push_back(std::string(name).append("=").append(value));
    }
    std::vector<char *> envp = exec_array(env_strings);
    plan.argv = argv.data();
    plan.envp = envp.data();

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
    plan.path = executable.path.c_str();

    // vfork, not posix_spawn: glibc's spawn maps a fresh stack for its child and resets all 64
    // signal dispositions there, which held this thread 0.44–0.50 ms per command against
    // 0.23–0.26 ms here (README, Performance). This thread is suspended until the child has
    // exec'd or exited; the server's other threads run on.
    volatile int exec_error = 0;
    pid_t pid = -1;
    {
        std::lock_guard lock(g_children_mutex);
        sigset_t all;
        sigset_t previous;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &previous);
        pid = vfork();
        if (pid == 0) {
            run_child(plan, &exec_error);
        }
        const int vfork_error = errno;
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        if (pid < 0) {
            return fail(vfork_error);
        }
        if (exec_error != 0) {
            int status = 0;
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            return fail(exec_error);
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

bool orphans_come_here() {
    int subreaper = 0;
    return getpid() == 1 || (prctl(PR_GET_CHILD_SUBREAPER, &subreaper) == 0 && subreaper != 0);
}

void set_orphans_come_here(bool come_here) {
    g_orphans_come_here = come_here;
}

void reap_orphans() {
    if (!g_orphans_come_here) {
        return;
    }
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
