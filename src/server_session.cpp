#include "server_session.h"

#include "argv_quoting.h"
#include "env_rules.h"
#include "exit_codes.h"
#include "log.h"
#include "process.h"
#include "server_pty.h"
#include "signals.h"
#include "ssh_drain.h"
#include "wire.h"
#include "workdir.h"

#include <libssh/callbacks.h>
#include <libssh/server.h>
#include <sodium.h>

#include <arpa/inet.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <csignal>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace k8psh {
namespace {

using Clock = std::chrono::steady_clock;

// Bounds on what one client may make us hold (SPEC §3: at least 1 MiB of argv).
using wire::kMaxExecBytes;
constexpr std::size_t kMaxEnvRequests = 4096;
constexpr std::size_t kIoChunk = 64u << 10;
constexpr int kCloseLingerMs = 5000;
using wire::kArgvPartName;
using wire::kCwdName;

std::string peer_of(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getpeername(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
        return "?";
    }
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (address.ss_family == AF_INET) {
        auto *in = reinterpret_cast<sockaddr_in *>(&address);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (address.ss_family == AF_INET6) {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&address);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    return std::string(host) + ":" + std::to_string(port);
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

class Session {
public:
    Session(ssh_session session, const ServerContext &context) : ssh_(session), context_(context) {}
    ~Session();
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    void run();
    bool ran_command() const { return exec_requested_; }

private:
    void begin_command() {
        exec_requested_ = true;
        command_started_ = Clock::now();
        if (context_.commands != nullptr) {
            ++*context_.commands;  // the server lowers it again when this session has ended
        }
    }

    // libssh callbacks: static trampolines into the members below.
    static int auth_pubkey_cb(ssh_session, const char *, ssh_key key, char state, void *self) {
        return static_cast<Session *>(self)->on_auth_pubkey(key, state);
    }
    static ssh_channel channel_open_cb(ssh_session, void *self) {
        return static_cast<Session *>(self)->on_channel_open();
    }
    static int env_cb(ssh_session, ssh_channel, const char *name, const char *value, void *self) {
        return static_cast<Session *>(self)->on_env(name, value);
    }
    static int exec_cb(ssh_session, ssh_channel, const char *command, void *self) {
        return static_cast<Session *>(self)->on_exec(command);
    }
    static int shell_cb(ssh_session, ssh_channel, void *self) {
        return static_cast<Session *>(self)->on_exec("");
    }
    static int subsystem_cb(ssh_session, ssh_channel, const char *name, void *self) {
        // No sftp or other subsystems: accepted only to say so on stderr, with exit 127.
        auto *session = static_cast<Session *>(self);
        if (session->exec_requested_) {
            return SSH_ERROR;
        }
        session->begin_command();
        session->refuse(exit_code::kUnknownCommand,
                        std::string("no subsystems here (") + name + "); run one of: " + session->allowed_commands());
        return SSH_OK;
    }
    static int pty_cb(ssh_session, ssh_channel, const char *term, int columns, int rows, int width, int height,
                      void *self) {
        return static_cast<Session *>(self)->on_pty(term, WindowSize{columns, rows, width, height});
    }
    static int window_change_cb(ssh_session, ssh_channel, int columns, int rows, int width, int height, void *self) {
        static_cast<Session *>(self)->on_window_change(WindowSize{columns, rows, width, height});
        return SSH_OK;
    }
    static void signal_cb(ssh_session, ssh_channel, const char *name, void *self) {
        static_cast<Session *>(self)->on_signal(name);
    }
    static void close_cb(ssh_session, ssh_channel, void *self) {
        static_cast<Session *>(self)->channel_closed_ = true;
    }

    int on_auth_pubkey(ssh_key key, char state);
    ssh_channel on_channel_open();
    int on_env(const char *name, const char *value);
    int on_exec(const char *command);
    int on_pty(const char *term, const WindowSize &size);
    void on_window_change(const WindowSize &size);
    void on_signal(const char *name);

    bool connection_lost() const;
    void start_command(const std::string &exec_string);
    void refuse(int code, const std::string &message);
    std::string allowed_commands() const;
    void loop();
    void pump_stdin();
    // Moves bytes from fd to the channel while the window allows; false once fd is at its end.
    bool pump_output(int fd, bool is_stderr);
    void pump_pipe(int &fd, bool is_stderr);
    void send_exit();
    void client_vanished();
    void arm_kill(int grace_ms);

    ssh_session ssh_;
    const ServerContext &context_;
    ssh_event event_ = nullptr;
    ssh_channel channel_ = nullptr;
    ssh_server_callbacks_struct server_callbacks_{};
    ssh_channel_callbacks_struct channel_callbacks_{};

    std::string peer_;
    Clock::time_point started_ = Clock::now();
    Clock::time_point command_started_{};  // the log's duration: a reused connection may wait first
    int auth_failures_ = 0;
    bool exec_requested_ = false;
    bool channel_closed_ = false;
    bool vanished_ = false;
    bool done_ = false;
    bool shutdown_seen_ = false;

    EnvMap client_env_;
    std::size_t env_requests_ = 0;
    std::string argv_parts_;
    bool argv_too_long_ = false;
    std::string command_name_ = "-";

    bool want_pty_ = false;
    bool pty_drained_ = false;  // no more output will be read from the master
    std::string term_;
    WindowSize window_{};
    Pty pty_;

    Child child_;
    bool child_running_ = false;
    bool reaped_ = false;
    int wait_status_ = 0;
    int refused_code_ = -1;  // k8psh's own exit code when the command never started
    std::string refusal_;
    std::string stdin_pending_;
    bool stdin_closed_ = false;
    std::uint64_t bytes_in_ = 0;
    std::uint64_t bytes_out_ = 0;
    int exit_code_ = -1;
    bool kill_armed_ = false;
    bool closing_ = false;  // exit sent; waiting for the client to disconnect
    Clock::time_point kill_deadline_{};
    Clock::time_point linger_deadline_{};  // closing: the client has until then to hang up
};

Session::~Session() {
    if (child_running_) {
        // Never leave a command behind, whatever ended the session.
        signal_group(child_, SIGKILL);
        int status = 0;
        waitpid(child_.pid, &status, 0);
    }
    close_child_fds(child_);
    if (event_ != nullptr) {
        ssh_event_remove_session(event_, ssh_);
        ssh_event_free(event_);
    }
    ssh_disconnect(ssh_);
    ssh_free(ssh_);
}

void Session::run() {
    int fd = ssh_get_fd(ssh_);
    int one = 1;
    // libssh writes a reply as several small packets: without this, delayed ACKs cost 40 ms each.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    peer_ = peer_of(fd);

    server_callbacks_.userdata = this;
    server_callbacks_.auth_pubkey_function = auth_pubkey_cb;
    server_callbacks_.channel_open_request_session_function = channel_open_cb;
    ssh_callbacks_init(&server_callbacks_);
    ssh_set_server_callbacks(ssh_, &server_callbacks_);
    // Whatever the callbacks above do not handle (tcpip-forward and other global requests,
    // direct-tcpip/x11/agent channels) gets libssh's default answer, a failure, at once;
    // without this a global request would stay unanswered and its client would hang.
    ssh_set_message_callback(ssh_, [](ssh_session, ssh_message, void *) { return 1; }, nullptr);
    ssh_set_auth_methods(ssh_, SSH_AUTH_METHOD_PUBLICKEY);

    long grace_s = (context_.login_grace_ms + 999) / 1000;
    ssh_options_set(ssh_, SSH_OPTIONS_TIMEOUT, &grace_s);
    if (ssh_handle_key_exchange(ssh_) != SSH_OK) {
        K8PSH_DEBUG_LOG("server", "{}: key exchange failed: {}", peer_, ssh_get_error(ssh_));
        return;
    }
    ssh_set_blocking(ssh_, 0);
    event_ = ssh_event_new();
    ssh_event_add_session(event_, ssh_);
    loop();
    if (exec_requested_) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - command_started_).count();
        std::string result = exit_code_ >= 0 ? "exit " + std::to_string(exit_code_)
                                             : std::string(vanished_ ? "client vanished" : "aborted");
        spdlog::info("{} {} {} {}ms in={} out={}", peer_, command_name_, result, ms, bytes_in_, bytes_out_);
    }
}

int Session::on_auth_pubkey(ssh_key key, char state) {
    char *offered = nullptr;
    bool match = false;
    if (ssh_pki_export_pubkey_base64(key, &offered) == SSH_OK) {
        const auto &allowed = context_.client_key_blob;
        std::size_t length = strlen(offered);
        match = length == allowed.size() && sodium_memcmp(offered, allowed.data(), length) == 0;
        ssh_string_free_char(offered);
    }
    if (!match) {
        ++auth_failures_;
        K8PSH_DEBUG_LOG("server", "{}: public key refused", peer_);
        return SSH_AUTH_DENIED;
    }
    // OpenSSH first asks whether the key would do (state NONE), then signs: both get "yes",
    // and libssh has verified the signature itself before calling with state VALID.
    if (state == SSH_PUBLICKEY_STATE_VALID) {
        K8PSH_DEBUG_LOG("server", "{}: authenticated", peer_);
    }
    return SSH_AUTH_SUCCESS;
}

ssh_channel Session::on_channel_open() {
    if (channel_ != nullptr) {
        return nullptr;  // one command per connection
    }
    channel_ = ssh_channel_new(ssh_);
    channel_callbacks_.userdata = this;
    channel_callbacks_.channel_env_request_function = env_cb;
    channel_callbacks_.channel_exec_request_function = exec_cb;
    channel_callbacks_.channel_shell_request_function = shell_cb;
    channel_callbacks_.channel_subsystem_request_function = subsystem_cb;
    channel_callbacks_.channel_pty_request_function = pty_cb;
    channel_callbacks_.channel_pty_window_change_function = window_change_cb;
    channel_callbacks_.channel_signal_function = signal_cb;
    channel_callbacks_.channel_close_function = close_cb;
    ssh_callbacks_init(&channel_callbacks_);
    ssh_set_channel_callbacks(channel_, &channel_callbacks_);
    return channel_;
}

int Session::on_env(const char *name, const char *value) {
    if (exec_requested_ || ++env_requests_ > kMaxEnvRequests) {
        return SSH_ERROR;
    }
    if (strcmp(name, kArgvPartName) == 0) {
        std::size_t length = strlen(value);
        if (argv_parts_.size() + length > kMaxExecBytes) {
            argv_too_long_ = true;
        } else {
            argv_parts_.append(value, length);
        }
        return SSH_OK;
    }
    // Everything is remembered; only what the command's rules name is ever used.
    client_env_[name] = value;
    return SSH_OK;
}

int Session::on_exec(const char *command) {
    if (exec_requested_) {
        return SSH_ERROR;
    }
    begin_command();
    argv_parts_.append(command);
    start_command(argv_parts_);
    argv_parts_.clear();
    argv_parts_.shrink_to_fit();
    return SSH_OK;
}

int Session::on_pty(const char *term, const WindowSize &size) {
    if (exec_requested_) {
        return SSH_ERROR;
    }
    want_pty_ = true;
    term_ = term;
    window_ = size;
    return SSH_OK;
}

void Session::on_window_change(const WindowSize &size) {
    window_ = size;
    pty_.resize(size);
}

void Session::on_signal(const char *name) {
    int signal = signal_from_ssh_name(name);
    if (signal != 0 && child_running_) {
        K8PSH_DEBUG_LOG("server", "{}: forwarding SIG{} to {}", peer_, name, command_name_);
        signal_group(child_, signal);
    }
}

std::string Session::allowed_commands() const {
    std::string list;
    for (const auto &command : context_.section->commands) {
        list += (list.empty() ? "" : ", ") + command.name;
    }
    return list;
}

void Session::refuse(int code, const std::string &message) {
    refused_code_ = code;
    refusal_ = "k8psh: " + message + "\n";
}

void Session::start_command(const std::string &exec_string) {
    if (argv_too_long_) {
        refuse(exit_code::kUsage, "argument list too long (limit " + std::to_string(kMaxExecBytes) + " bytes)");
        return;
    }
    std::vector<std::string> words;
    try {
        words = split_command(exec_string);
    } catch (const SplitError &error) {
        refuse(exit_code::kUsage, std::string("cannot split command line: ") + error.what());
        return;
    }
    if (words.empty()) {
        refuse(exit_code::kUnknownCommand, "no shell here; run one of: " + allowed_commands());
        return;
    }
    const Command *command = nullptr;
    for (const auto &candidate : context_.section->commands) {
        if (candidate.name == words[0]) {
            command = &candidate;
        }
    }
    if (command == nullptr) {
        refuse(exit_code::kUnknownCommand, "unknown command '" + words[0] + "' on server '" +
                                               context_.section->name + "'; allowed: " + allowed_commands());
        return;
    }
    command_name_ = command->name;

    SpawnRequest request;
    try {
        auto cwd = client_env_.find(kCwdName);
        request.directory =
            map_workdir(context_.config->base_directory, cwd == client_env_.end() ? "" : cwd->second);
    } catch (const WorkdirError &error) {
        refuse(exit_code::kUsage, error.what());
        return;
    }
    request.argv = command->argv;
    request.argv.insert(request.argv.end(), words.begin() + 1, words.end());
    request.env = build_command_env(*command, client_env_, process_env());
    if (want_pty_) {
        bool has_term = false;
        for (const auto &entry : request.env) {
            has_term = has_term || entry.first == "TERM";
        }
        if (!has_term) {
            request.env.emplace_back("TERM", term_);
        }
        if (!pty_.open(window_)) {
            refuse(exit_code::kCannotExecute, std::string("cannot allocate a terminal: ") + strerror(errno));
            return;
        }
        request.pty_path = pty_.slave_path();
    }
    SpawnFailure failure;
    if (!spawn_command(request, child_, failure)) {
        refuse(failure.exit_code, "cannot execute '" + request.argv[0] + "' in " + request.directory + ": " +
                                      strerror(failure.error));
        return;
    }
    pty_.close_slave();
    child_running_ = true;
    K8PSH_DEBUG_LOG("server", "{}: started {} (pid {})", peer_, command_name_, child_.pid);
}

bool Session::connection_lost() const {
    return (ssh_get_status(ssh_) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0 || !ssh_is_connected(ssh_);
}

void Session::arm_kill(int grace_ms) {
    if (!kill_armed_) {
        kill_armed_ = true;
        kill_deadline_ = Clock::now() + std::chrono::milliseconds(grace_ms);
    }
}

void Session::client_vanished() {
    if (vanished_) {
        return;
    }
    vanished_ = true;
    if (child_running_) {
        // Like a terminal hang-up: the job may clean up, then it is killed (SPEC §3).
        K8PSH_DEBUG_LOG("server", "{}: client gone, SIGHUP to {}", peer_, command_name_);
        signal_group(child_, SIGHUP);
        arm_kill(context_.hangup_grace_ms);
    } else {
        done_ = true;
    }
}

void Session::pump_stdin() {
    int fd = want_pty_ ? pty_.master() : child_.stdin_fd;
    char buffer[kIoChunk];
    while (!stdin_closed_) {
        if (stdin_pending_.empty()) {
            int n = ssh_channel_read_nonblocking(channel_, buffer, sizeof buffer, 0);
            if (n > 0) {
                bytes_in_ += static_cast<std::uint64_t>(n);
                stdin_pending_.assign(buffer, static_cast<std::size_t>(n));
            } else if (ssh_channel_is_eof(channel_)) {
                // The client's stdin ended: the command's stdin ends too (a PTY keeps its line).
                stdin_closed_ = true;
                if (!want_pty_) {
                    close(child_.stdin_fd);
                    child_.stdin_fd = -1;
                }
                return;
            } else {
                return;
            }
        }
        if (fd < 0) {
            // The command closed its stdin (or has no terminal yet): keep the channel flowing.
            stdin_pending_.clear();
            continue;
        }
        ssize_t written = write(fd, stdin_pending_.data(), stdin_pending_.size());
        if (written < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                return;  // resumes on POLLOUT
            }
            // EPIPE: the command stopped reading. Later input is read and dropped, so the
            // client never stalls and nothing desynchronises (an upstream defect).
            if (!want_pty_) {
                close(child_.stdin_fd);
                child_.stdin_fd = -1;
            }
            fd = -1;
            stdin_pending_.clear();
            continue;
        }
        stdin_pending_.erase(0, static_cast<std::size_t>(written));
    }
}

bool Session::pump_output(int fd, bool is_stderr) {
    char buffer[kIoChunk];
    for (;;) {
        uint32_t window = ssh_channel_window_size(channel_);
        if (window == 0) {
            return true;  // back-pressure: resume when the client grows the window
        }
        std::size_t want = window < sizeof buffer ? window : sizeof buffer;
        ssize_t n = read(fd, buffer, want);
        if (n > 0) {
            bytes_out_ += static_cast<std::uint64_t>(n);
            if (is_stderr) {
                ssh_channel_write_stderr(channel_, buffer, static_cast<uint32_t>(n));
            } else {
                ssh_channel_write(channel_, buffer, static_cast<uint32_t>(n));
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            return true;
        }
        return false;  // EOF, or EIO from a PTY master whose slave side is all closed
    }
}

void Session::pump_pipe(int &fd, bool is_stderr) {
    if (fd >= 0 && !pump_output(fd, is_stderr)) {
        close(fd);
        fd = -1;
    }
}

void Session::send_exit() {
    if (refused_code_ >= 0) {
        exit_code_ = refused_code_;
        ssh_channel_write_stderr(channel_, refusal_.data(), static_cast<uint32_t>(refusal_.size()));
        ssh_channel_request_send_exit_status(channel_, refused_code_);
    } else {
        exit_code_ = exit_code_of(wait_status_);
        // A signal without an SSH name still reaches the client, as its 128+N exit status.
        std::string signal = WIFSIGNALED(wait_status_) ? ssh_name_of_signal(WTERMSIG(wait_status_)) : "";
        if (!signal.empty()) {
            ssh_channel_request_send_exit_signal(channel_, signal.c_str(), WCOREDUMP(wait_status_) ? 1 : 0, "", "");
        } else {
            ssh_channel_request_send_exit_status(channel_, exit_code_);
        }
    }
    // RFC 4254 order, after all output: exit status, EOF, close.
    ssh_channel_send_eof(channel_);
    ssh_channel_close(channel_);
    // Then wait for the client to hang up: closing while its window adjustments sit unread in
    // our receive queue would send a TCP reset, and a reset discards the tail of the output
    // still queued on the client's side.
    closing_ = true;
    linger_deadline_ = Clock::now() + std::chrono::milliseconds(kCloseLingerMs);
}

void Session::loop() {
    const auto login_deadline = started_ + std::chrono::milliseconds(context_.login_grace_ms);
    const int ssh_fd = ssh_get_fd(ssh_);
    while (!done_) {
        // The master stays open until the command is reaped: closing it hangs the terminal up,
        // which would SIGHUP a command that closed its stdio but has not exited yet.
        int pty_fd = want_pty_ && !pty_drained_ ? pty_.master() : -1;
        bool window_open = channel_ != nullptr && !vanished_ && ssh_channel_window_size(channel_) > 0;

        pollfd fds[7];
        nfds_t count = 0;
        auto add = [&](int fd, short events) {
            fds[count] = pollfd{fd, events, 0};
            return fd >= 0 && events != 0 ? static_cast<int>(count++) : -1;
        };
        short ssh_events = POLLIN;
        if (ssh_get_poll_flags(ssh_) & SSH_WRITE_PENDING) {
            ssh_events |= POLLOUT;
        }
        int i_ssh = vanished_ ? -1 : add(ssh_fd, ssh_events);
        int i_out = add(child_.stdout_fd, window_open ? POLLIN : 0);
        int i_err = add(child_.stderr_fd, window_open ? POLLIN : 0);
        int i_pty = add(pty_fd, static_cast<short>((window_open ? POLLIN : 0) |
                                                   (!stdin_pending_.empty() ? POLLOUT : 0)));
        int i_in = add(child_.stdin_fd, !stdin_pending_.empty() ? POLLOUT : 0);
        int i_exit = add(child_running_ ? child_.pidfd : -1, POLLIN);
        int i_stop = add(shutdown_seen_ || closing_ ? -1 : context_.shutdown_fd, POLLIN);

        int timeout = -1;
        if (!exec_requested_) {
            timeout = remaining_ms(login_deadline);
        }
        for (auto [armed, deadline] : {std::pair{kill_armed_, kill_deadline_}, std::pair{closing_, linger_deadline_}}) {
            if (armed) {
                int left = remaining_ms(deadline);
                timeout = timeout < 0 ? left : std::min(timeout, left);
            }
        }
        int ready = poll(fds, count, timeout);
        if (ready < 0 && errno != EINTR) {
            break;
        }
        auto fired = [&](int index) { return index >= 0 && fds[index].revents != 0; };

        if (fired(i_ssh)) {
            if (ssh_event_dopoll(event_, 0) == SSH_ERROR || connection_lost()) {
                K8PSH_DEBUG_LOG("server", "{}: connection ended: {}", peer_, ssh_get_error(ssh_));
                client_vanished();
            }
        }
        if (!exec_requested_ && !vanished_) {
            if (auth_failures_ > 6 || Clock::now() >= login_deadline) {
                K8PSH_DEBUG_LOG("server", "{}: no command within the login grace time", peer_);
                break;
            }
        }
        if (closing_) {
            if (vanished_ || channel_closed_ || Clock::now() >= linger_deadline_) {
                done_ = true;
            }
            continue;
        }
        if (fired(i_stop)) {
            shutdown_seen_ = true;
            if (!child_running_) {
                break;
            }
            signal_group(child_, context_.wait_for_commands ? SIGTERM : SIGKILL);
            arm_kill(context_.wait_for_commands ? context_.shutdown_grace_ms : 0);
        }
        if (kill_armed_ && Clock::now() >= kill_deadline_) {
            kill_armed_ = false;
            signal_group(child_, SIGKILL);
        }
        if (fired(i_exit) || (child_running_ && child_.pidfd < 0)) {
            if (try_reap(child_, wait_status_)) {
                child_running_ = false;
                reaped_ = true;
                // At shutdown the group's stragglers (a background job holding stdout) still
                // get their SIGKILL; otherwise they may keep the session, as with ssh.
                kill_armed_ = kill_armed_ && shutdown_seen_;
            }
        }
        if (vanished_) {
            if (!child_running_) {
                done_ = true;
            }
            continue;
        }
        if (channel_closed_) {
            client_vanished();
            continue;
        }
        if (!exec_requested_) {
            continue;
        }
        if (refused_code_ >= 0) {
            send_exit();
            continue;
        }
        pump_stdin();
        if (fired(i_out)) {
            pump_pipe(child_.stdout_fd, false);
        }
        if (fired(i_err)) {
            pump_pipe(child_.stderr_fd, true);
        }
        if (fired(i_pty) && !pump_output(pty_.master(), false)) {
            pty_drained_ = true;
        }
        if (fired(i_in) || fired(i_pty)) {
            pump_stdin();
        }
        // The PTY's last output is read once the command is gone; a background job still holding
        // the terminal does not keep the session open.
        if (reaped_ && want_pty_ && !pty_drained_ && window_open) {
            if (!pump_output(pty_.master(), false) || ssh_channel_window_size(channel_) > 0) {
                pty_drained_ = true;
            }
        }
        bool outputs_open = child_.stdout_fd >= 0 || child_.stderr_fd >= 0 || (want_pty_ && !pty_drained_);
        if (reaped_ && !outputs_open) {
            send_exit();
        }
    }
}

}  // namespace

bool serve_session(ssh_session session, const ServerContext &context) {
    Session server_side(session, context);
    server_side.run();
    return server_side.ran_command();
}

}  // namespace k8psh
