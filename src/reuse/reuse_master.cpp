#include "reuse_master.h"

#include "crypto_init.h"
#include "exit_codes.h"
#include "log.h"
#include "process_title.h"
#include "reuse_connection.h"
#include "reuse_directory.h"
#include "sys.h"

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <fcntl.h>
#include <malloc.h>
#include <mutex>
#include <poll.h>
#include <sys/file.h>
#include <sys/resource.h>
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

// A stub's thread, its stub served, waits this long for the next one before it ends: a build
// calls stubs back to back, and handing a stub to a waiting thread costs a wake-up where a new
// thread costs its creation on the stub's path (README: Design notes).
constexpr auto kParkedThreadLinger = std::chrono::seconds(2);

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

// The master's main thread is its connection thread: it accepts stubs and is the only thread
// that touches the SSH session (reuse_connection.h). Each accepted stub gets a thread that
// checks it, reads its request and then relays its descriptors (reuse_job.h); a thread whose
// stub is done waits a little for the next one (serve_stubs).
class Master {
public:
    Master(const ConnectTarget &target, long idle_ms, int listen_fd)
        : connection_(without_interrupt(target)), idle_ms_(idle_ms), listen_fd_(listen_fd), last_work_(Clock::now()) {
        if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
            wake_[0] = wake_[1] = -1;
        }
    }
    void serve();
    bool listening() const { return listen_fd_ >= 0; }

private:
    static ConnectTarget without_interrupt(ConnectTarget target) {
        target.interrupt_fd = -1;  // the stub's self-pipe is not ours
        return target;
    }
    void dispatch(int client);
    void serve_stubs(int client);
    void handle(int client);
    bool keep_connection_warm();
    void finish_served();
    void wake() { (void)!write(wake_[1], "w", 1); }

    ReuseConnection connection_;  // the main thread's alone
    long idle_ms_;
    int listen_fd_;
    int wake_[2] = {-1, -1};
    bool reconnect_ = true;     // open a connection ahead of the next stub
    int connect_failures_ = 0;  // failed attempts in a row
    static constexpr int kConnectAttempts = 3;

    std::mutex mutex_;                                // guards what follows: the stubs' threads share it with serve()
    std::vector<std::shared_ptr<ReuseJob>> pending_;  // accepted, waiting for their channel
    int running_ = 0;                                 // stubs being served
    int parked_ = 0;                                  // threads waiting for a stub (serve_stubs)
    std::deque<int> handed_;                          // accepted stubs for parked threads
    std::condition_variable parked_wake_;
    Clock::time_point last_work_;
};

// A connection ready before the next stub comes saves it the handshake. False when the server
// seems gone: nothing to keep warm for it, the master ends.
bool Master::keep_connection_warm() {
    if (connection_.is_open() || !reconnect_) {
        return true;
    }
    std::string why;
    if (connection_.open(why, 0)) {  // one attempt: a warm connection is an optimisation, never a wait
        reconnect_ = false;
        connect_failures_ = 0;
        return true;
    }
    K8PSH_DEBUG_LOG("reuse", "no connection ahead: {}", why);
    // One failed attempt on a busy machine is not proof (a handshake cut or timed out): only a
    // few in a row, a little apart, end the master. Stubs waiting for it then connect themselves.
    if (++connect_failures_ >= kConnectAttempts) {
        return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100 * connect_failures_));
    return true;
}

// The server is gone: nothing new is taken (the listening socket is closed, stubs connect
// themselves), stubs still waiting for a channel are declined, and stubs whose command is over
// get the rest of its output and their exit code before the master exits.
void Master::finish_served() {
    close_fd(listen_fd_);
    for (;;) {
        std::vector<std::shared_ptr<ReuseJob>> waiting;
        {
            std::lock_guard lock(mutex_);
            waiting.swap(pending_);
            if (running_ == 0 && waiting.empty()) {
                return;
            }
        }
        for (const auto &job : waiting) {
            job->decline();
        }
        pollfd wake{wake_[0], POLLIN, 0};
        if (poll(&wake, 1, -1) < 0 && errno != EINTR) {
            return;
        }
        char drain[64];
        while (read(wake_[0], drain, sizeof drain) > 0) {
        }
    }
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
        std::vector<std::shared_ptr<ReuseJob>> arrived;
        int timeout = -1;
        {
            std::lock_guard lock(mutex_);
            arrived.swap(pending_);
            if (running_ == 0 && arrived.empty() && !connection_.has_channels()) {
                auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_work_).count();
                if (idle >= idle_ms_) {
                    K8PSH_DEBUG_LOG("reuse", "idle for {} ms: exiting", idle);
                    break;
                }
                timeout = static_cast<int>(idle_ms_ - idle);
            }
        }
        for (const auto &job : arrived) {
            connection_.start(job);
            timeout = 0;  // its channel may have changed while we waited for replies: a turn first
        }
        if (!keep_connection_warm()) {
            finish_served();
            break;
        }
        if (reconnect_ && !connection_.is_open()) {
            timeout = 0;  // the next attempt, after keep_connection_warm's pause
        }
        pollfd fds[3] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}, {connection_.fd(), connection_.events(), 0}};
        if (poll(fds, 3, timeout) < 0 && errno != EINTR) {
            break;
        }
        if (fds[1].revents != 0) {
            char drain[64];
            while (read(wake_[0], drain, sizeof drain) > 0) {
            }
        }
        // Also when only a stub had news (stdin, a signal, room for output): cheap when idle.
        bool was_open = connection_.is_open();
        connection_.service();
        if (was_open && !connection_.is_open()) {
            // The server hung up (its idle limit, a restart) or the network broke: try a new
            // one; if the server is gone, the master ends.
            reconnect_ = true;
        }
        if (fds[0].revents != 0) {
            int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client >= 0) {
                dispatch(client);
            }
        }
    }
}

// Each stub is served on a thread of its own: a parked one if there is one to spare.
void Master::dispatch(int client) {
    std::lock_guard lock(mutex_);
    ++running_;
    if (static_cast<std::size_t>(parked_) > handed_.size()) {
        handed_.push_back(client);
        parked_wake_.notify_one();
        return;
    }
    try {
        std::thread([this, client] { serve_stubs(client); }).detach();
    } catch (const std::system_error &) {
        // No thread to be had (process limit): closed before anything was accepted, the stub
        // makes its own connection.
        --running_;
        close_fd(client);
    }
}

void Master::serve_stubs(int client) {
    for (;;) {
        handle(client);
        std::unique_lock lock(mutex_);
        ++parked_;
        bool handed = parked_wake_.wait_for(lock, kParkedThreadLinger, [this] { return !handed_.empty(); });
        --parked_;
        if (!handed) {
            return;
        }
        client = handed_.front();
        handed_.pop_front();
    }
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
            RunIo io{fds[0], fds[1], fds[2], client};
            if (request->tty) {
                // The stub relays its terminal (reuse_client.cpp): stdin and stdout are its socket
                // pair, the third is the terminal, for its size only. A PTY has no stderr.
                io.err = -1;
                io.terminal = fds[2];
            }
            auto job = std::make_shared<ReuseJob>(std::move(*request), io, [this] { wake(); });
            {
                std::lock_guard lock(mutex_);
                pending_.push_back(job);
            }
            wake();
            // Declined: closed without the accept byte, so the stub knows nothing ran. Accepted:
            // the connection thread sent the byte as the exec went out (ReuseJob::accept).
            if (job->await_start()) {
                RunOutcome outcome = job->relay();  // a stub already gone is noticed there
                std::string result = encode_result(outcome.code, outcome.error);
                if (job->told()) {
                    (void)!send(client, result.data(), result.size(), MSG_NOSIGNAL);
                }
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
    // Each stub in flight holds about six descriptors here: the soft limit (often 1024) would
    // end accepting well below a connection's 256 channels.
    rlimit files{};
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
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
    // Never destroyed: a stub's thread may still be leaving its last critical section.
    auto *master = new Master(target, idle_ms, listen_fd);
    master->serve();
    // Unlinked before closing: a stub connecting now finds no socket and runs on its own.
    unlinkat(directory, socket_name.c_str(), 0);
    if (master->listening()) {
        close_fd(listen_fd);
    }
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
