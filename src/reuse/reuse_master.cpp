#include "reuse_master.h"

#include "crypto_init.h"
#include "exit_codes.h"
#include "log.h"
#include "process_title.h"
#include "remote_run.h"
#include "reuse_directory.h"
#include "sys.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <malloc.h>
#include <mutex>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace k8psh {
namespace {

// A stub sends its whole request right after connecting. A client that stays silent longer is
// not a stub: it is dropped instead of holding a thread (and keeping the master from idling
// out) for ever. Each read of the request may wait this long.
constexpr timeval kRequestReadTimeout{2, 0};

// SIGTERM (a container stopping, `pkill`) ends the master like its idle timeout does, so its
// socket and lock file go with it.
volatile sig_atomic_t g_stop = 0;
int g_wake_fd = -1;

void on_stop(int) {
    int saved = errno;
    g_stop = 1;
    (void)!write(g_wake_fd, "s", 1);
    errno = saved;
}

class Master {
public:
    Master(const ConnectTarget &target, long idle_ms, int listen_fd)
        : target_(target), idle_ms_(idle_ms), listen_fd_(listen_fd), last_work_(Clock::now()) {
        target_.interrupt_fd = -1;  // the stub's self-pipe is not ours
        spare_target_ = target_;
        spare_target_.timeout_ms = 0;  // one attempt: a spare is an optimisation, never a wait
        if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
            wake_[0] = wake_[1] = -1;
        }
    }
    void serve();

private:
    void handle(int client);
    RunOutcome run(OwnedSession session, const WireRequest &request, const RunIo &io);
    OwnedSession take_spare();
    void wake() { (void)!write(wake_[1], "w", 1); }

    ConnectTarget target_;
    ConnectTarget spare_target_;
    long idle_ms_;
    int listen_fd_;
    int wake_[2] = {-1, -1};

    std::mutex mutex_;  // guards what follows: the handler threads share it with serve()
    OwnedSession spare_;
    bool spare_wanted_ = true;
    int spare_failures_ = 0;  // failed spare connections in a row while idle
    static constexpr int kSpareAttempts = 3;
    int running_ = 0;
    Clock::time_point last_work_;
};

OwnedSession Master::take_spare() {
    std::lock_guard lock(mutex_);
    spare_wanted_ = true;
    return std::move(spare_);
}

void Master::serve() {
    g_wake_fd = wake_[1];
    struct sigaction action {};
    action.sa_handler = on_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);
    for (;;) {
        if (g_stop != 0) {
            K8PSH_DEBUG_LOG("reuse", "asked to stop: exiting");
            break;
        }
        bool connect_spare = false;
        int spare_fd = -1;
        int timeout = -1;
        {
            std::lock_guard lock(mutex_);
            connect_spare = spare_ == nullptr && spare_wanted_;
            spare_fd = spare_ != nullptr ? ssh_get_fd(spare_.get()) : -1;
            if (running_ == 0) {
                auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_work_).count();
                if (idle >= idle_ms_) {
                    K8PSH_DEBUG_LOG("reuse", "idle for {} ms: exiting", idle);
                    break;
                }
                timeout = static_cast<int>(idle_ms_ - idle);
            }
        }
        if (connect_spare) {
            OwnedSession session;
            try {
                session = connect_authenticated(spare_target_);
                K8PSH_DEBUG_LOG("reuse", "spare connection ready");
            } catch (const ConnectError &error) {
                K8PSH_DEBUG_LOG("reuse", "no spare connection: {}", error.message);
            }
            std::lock_guard lock(mutex_);
            spare_wanted_ = false;  // after a failure, try again when a run has finished
            if (session == nullptr && running_ == 0) {
                // The server is gone (or refuses us): nothing to keep warm for it. One failed
                // attempt on a busy machine is not proof of that (a handshake cut or timed out),
                // so only a few in a row, a little apart, end the master.
                if (++spare_failures_ >= kSpareAttempts) {
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(100 * spare_failures_));
                spare_wanted_ = true;
                continue;
            }
            spare_failures_ = 0;
            spare_ = std::move(session);
            continue;
        }
        pollfd fds[3] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}, {spare_fd, POLLIN, 0}};
        if (poll(fds, 3, timeout) < 0 && errno != EINTR) {
            break;
        }
        if (fds[1].revents != 0) {
            char drain[64];
            while (read(wake_[0], drain, sizeof drain) > 0) {
            }
        }
        if (fds[2].revents != 0) {
            // The server never speaks first on an idle connection: this is its hang-up (login
            // grace, restart). Replace the spare.
            std::lock_guard lock(mutex_);
            if (spare_ != nullptr && ssh_get_fd(spare_.get()) == spare_fd) {
                K8PSH_DEBUG_LOG("reuse", "spare connection closed by the server");
                UnconnectedSession gone(spare_.release());  // nobody left to say goodbye to
                spare_wanted_ = true;
            }
        }
        if (fds[0].revents != 0) {
            int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0) {
                std::lock_guard lock(mutex_);
                ++running_;
                try {
                    std::thread([this, client] { handle(client); }).detach();
                } catch (const std::system_error &) {
                    // No thread to be had (process limit): closed before anything was accepted,
                    // the stub makes its own connection.
                    --running_;
                    close_fd(client);
                }
            }
        }
    }
    std::lock_guard lock(mutex_);
    spare_.reset();
}

RunOutcome Master::run(OwnedSession owned, const WireRequest &request, const RunIo &io) {
    RunOutcome outcome;
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!owned) {
            try {
                owned = connect_authenticated(target_);
            } catch (const ConnectError &error) {
                return {exit_code::kConnection, error.message};
            }
        }
        outcome = run_on_session(owned.get(), request, io, target_.server_name);
        bool stale_spare = outcome.channel_refused && attempt == 0;
        owned.reset();
        if (!stale_spare) {
            break;  // the command ran (or was refused by the server itself): never twice
        }
        K8PSH_DEBUG_LOG("reuse", "connection went stale, running on a new one");
    }
    return outcome;
}

void Master::handle(int client) {
    int fds[3] = {-1, -1, -1};
    std::string why;
    // The directory is already private; the check keeps that true even if it were not.
    bool ours = peer_is_us(client, why);
    if (!ours) {
        K8PSH_DEBUG_LOG("reuse", "client refused: {}", why);
    }
    if (ours) {
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &kRequestReadTimeout, sizeof kRequestReadTimeout);
        if (auto request = receive_reuse_request(client, fds); request.has_value()) {
            if (send(client, &kAccepted, 1, MSG_NOSIGNAL) == 1) {
                RunOutcome outcome = run(take_spare(), *request, RunIo{fds[0], fds[1], fds[2], client, true});
                wake();  // a new spare, while the stub prints and exits
                std::string result = encode_result(outcome.code, outcome.error);
                (void)!send(client, result.data(), result.size(), MSG_NOSIGNAL);
            }
        }
    }
    for (int &fd : fds) {
        close_fd(fd);
    }
    close_fd(client);
    std::lock_guard lock(mutex_);
    if (--running_ == 0) {
        malloc_trim(0);  // a burst's buffers and thread stacks' heap go back while idle
    }
    last_work_ = Clock::now();
    spare_wanted_ = true;
    wake();
}

// Removes the lock file while still holding it, so nothing is left per identity: a master
// starting meanwhile that opened the old file notices it no longer has that name and
// locks the new one (take_master_lock).
[[noreturn]] void remove_and_exit(int directory, const std::string &lock_name) {
    unlinkat(directory, lock_name.c_str(), 0);
    _exit(0);
}

// The master's process: detached from the stub's session, terminal and files.
[[noreturn]] void become_master(const ReuseEndpoint &endpoint, const ConnectTarget &target, long idle_ms) {
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int signal : {SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGTSTP, SIGCONT}) {
        std::signal(signal, SIG_DFL);
    }
    std::signal(SIGPIPE, SIG_IGN);  // a stub's stdout that went away is an error code, not our death
    std::signal(SIGHUP, SIG_IGN);
    set_process_title("k8psh-reuse master for " + target.server_name + " at " + target.host + ":" +
                      std::to_string(target.port));
    if (chdir("/") != 0) {
        _exit(0);
    }
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) {
        _exit(0);
    }
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    closefrom(3);

    std::string why;
    int directory = make_private_directory(endpoint.directory, why);
    if (directory < 0) {
        _exit(0);  // not ours alone: stubs will not use it either
    }
    if (log::debug_enabled("reuse")) {
        // Nobody reads our stderr: debug lines go beside the socket instead.
        int log_fd = open_private_file(directory, endpoint.log, O_WRONLY | O_CREAT | O_APPEND, why);
        if (log_fd >= 0) {
            dup2(log_fd, 2);
            close_fd(log_fd);
        }
    }
    int lock = take_master_lock(directory, endpoint.lock);
    if (lock < 0) {
        _exit(0);  // another master serves this endpoint
    }
    const std::string socket_name = endpoint.name + ".sock";
    // Holding the lock, a socket file left here is a dead master's.
    unlinkat(directory, socket_name.c_str(), 0);
    int listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    endpoint.socket.copy(address.sun_path, sizeof address.sun_path - 1);
    if (listen_fd < 0 || bind(listen_fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 ||
        listen(listen_fd, SOMAXCONN) != 0) {
        remove_and_exit(directory, endpoint.lock);
    }
    K8PSH_DEBUG_LOG("reuse", "master for {}:{} listening on {}", target.host, target.port, endpoint.socket);
    ensure_crypto_ready();
    // Never destroyed: a handler thread may still be leaving its last critical section.
    auto *master = new Master(target, idle_ms, listen_fd);
    master->serve();
    // Unlinked before closing: a stub connecting now finds no socket and runs on its own.
    unlinkat(directory, socket_name.c_str(), 0);
    close_fd(listen_fd);
    remove_and_exit(directory, endpoint.lock);
}

}  // namespace

void start_reuse_master(const ReuseEndpoint &endpoint, const ConnectTarget &target, long idle_ms) {
    pid_t child = fork();
    if (child < 0) {
        return;
    }
    if (child == 0) {
        // Twice, so the master is nobody's child: the stub's shell never waits for it.
        if (setsid() < 0 || fork() != 0) {
            _exit(0);
        }
        become_master(endpoint, target, idle_ms);
    }
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
}

}  // namespace k8psh
