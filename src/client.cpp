#include "client.h"

#include "argv_quoting.h"
#include "client_connection.h"
#include "env_rules.h"
#include "exit_codes.h"
#include "log.h"
#include "signals.h"
#include "ssh_drain.h"
#include "terminal.h"
#include "wire.h"
#include "workdir.h"

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <poll.h>
#include <unistd.h>

namespace k8psh {
namespace {

using wire::kArgvPartBytes;
using wire::kArgvPartName;
using wire::kMaxExecBytes;
constexpr std::size_t kIoChunk = 64u << 10;

int g_signal_pipe[2] = {-1, -1};

void on_signal(int signal) {
    int saved = errno;
    unsigned char byte = static_cast<unsigned char>(signal);
    (void)!write(g_signal_pipe[1], &byte, 1);
    errno = saved;
}

// Signals the stub forwards to the remote process group (SPEC §3), and SIGWINCH for PTYs.
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

void install_signal_handlers() {
    if (pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        return;
    }
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int signal : kForwarded) {
        sigaction(signal, &action, nullptr);
    }
}

bool write_all(int fd, const char *data, std::size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                pollfd p{fd, POLLOUT, 0};
                poll(&p, 1, -1);
                continue;
            }
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

class RemoteRun {
public:
    RemoteRun(const ClientRequest &request, ssh_session session) : request_(request), ssh_(session) {}
    ~RemoteRun() {
        restore_terminal();
        if (event_ != nullptr) {
            ssh_event_remove_session(event_, ssh_);
            ssh_event_free(event_);
        }
    }
    RemoteRun(const RemoteRun &) = delete;
    RemoteRun &operator=(const RemoteRun &) = delete;

    int run(const std::string &relative_cwd);

private:
    static int data_cb(ssh_session, ssh_channel, void *data, uint32_t len, int is_stderr, void *self) {
        // Written before returning, so the window only grows as fast as our stdout drains.
        write_all(is_stderr ? 2 : 1, static_cast<const char *>(data), len);
        (void)self;
        return static_cast<int>(len);
    }
    static void exit_status_cb(ssh_session, ssh_channel, int status, void *self) {
        static_cast<RemoteRun *>(self)->exit_code_ = status;
    }
    static void exit_signal_cb(ssh_session, ssh_channel, const char *signal, int, const char *, const char *,
                               void *self) {
        int number = signal_from_ssh_name(signal);
        static_cast<RemoteRun *>(self)->exit_code_ =
            number != 0 ? exit_code::kSignalBase + number : exit_code::kConnection;
    }
    static void close_cb(ssh_session, ssh_channel, void *self) { static_cast<RemoteRun *>(self)->closed_ = true; }

    enum class RequestResult { Sent, Refused, TooLong };
    RequestResult send_request(const std::string &relative_cwd, bool tty);
    void loop(bool tty);
    void forward_signal(int signal, bool tty);

    const ClientRequest &request_;
    ssh_session ssh_;
    ssh_channel channel_ = nullptr;
    ssh_event event_ = nullptr;
    ssh_channel_callbacks_struct callbacks_{};
    int exit_code_ = -1;
    bool closed_ = false;
    std::uint64_t sent_total_ = 0;
};

RemoteRun::RequestResult RemoteRun::send_request(const std::string &relative_cwd, bool tty) {
    channel_ = ssh_channel_new(ssh_);
    callbacks_.userdata = this;
    callbacks_.channel_data_function = data_cb;
    callbacks_.channel_exit_status_function = exit_status_cb;
    callbacks_.channel_exit_signal_function = exit_signal_cb;
    callbacks_.channel_close_function = close_cb;
    ssh_callbacks_init(&callbacks_);
    ssh_set_channel_callbacks(channel_, &callbacks_);
    if (ssh_channel_open_session(channel_) != SSH_OK) {
        return RequestResult::Refused;
    }
    if (tty) {
        const char *term = std::getenv("TERM");
        WindowSize size = terminal_size();
        if (ssh_channel_request_pty_size(channel_, term != nullptr ? term : "xterm", size.columns, size.rows) !=
            SSH_OK) {
            return RequestResult::Refused;
        }
    }
    for (const auto &name : client_env_names(*request_.command)) {
        if (const char *value = std::getenv(name.c_str()); value != nullptr) {
            ssh_channel_request_env(channel_, name.c_str(), value);
        }
    }
    if (!relative_cwd.empty()) {
        ssh_channel_request_env(channel_, wire::kCwdName, relative_cwd.c_str());
    }
    std::vector<std::string> argv{request_.command->name};
    argv.insert(argv.end(), request_.args.begin(), request_.args.end());
    std::string exec = quote_argv(argv);
    if (exec.size() > kMaxExecBytes) {
        spdlog::error("argument list too long: {} bytes quoted (limit {} bytes)", exec.size(), kMaxExecBytes);
        return RequestResult::TooLong;
    }
    std::size_t offset = 0;
    while (exec.size() - offset > kArgvPartBytes) {
        std::string part = exec.substr(offset, kArgvPartBytes);
        if (ssh_channel_request_env(channel_, kArgvPartName, part.c_str()) != SSH_OK) {
            return RequestResult::Refused;
        }
        offset += kArgvPartBytes;
    }
    return ssh_channel_request_exec(channel_, exec.c_str() + offset) == SSH_OK ? RequestResult::Sent
                                                                                : RequestResult::Refused;
}

void RemoteRun::forward_signal(int signal, bool tty) {
    if (signal == SIGWINCH) {
        if (tty) {
            WindowSize size = terminal_size();
            ssh_channel_change_pty_size(channel_, size.columns, size.rows);
        }
        return;
    }
    std::string name = ssh_name_of_signal(signal);
    K8PSH_DEBUG_LOG("client", "forwarding SIG{}", name);
    ssh_channel_request_send_signal(channel_, name.c_str());
}

void RemoteRun::loop(bool tty) {
    ssh_set_blocking(ssh_, 0);
    event_ = ssh_event_new();
    ssh_event_add_session(event_, ssh_);
    const int ssh_fd = ssh_get_fd(ssh_);
    bool stdin_open = true;
    char buffer[kIoChunk];
    while (!closed_) {
        short ssh_events = POLLIN;
        if (ssh_get_poll_flags(ssh_) & SSH_WRITE_PENDING) {
            ssh_events |= POLLOUT;
        }
        // Read stdin only while the server can take it: that is the back-pressure upstream.
        bool want_stdin = stdin_open && ssh_channel_window_size(channel_) > 0;
        pollfd fds[3] = {{ssh_fd, ssh_events, 0}, {g_signal_pipe[0], POLLIN, 0}, {want_stdin ? 0 : -1, POLLIN, 0}};
        if (poll(fds, 3, -1) < 0 && errno != EINTR) {
            break;
        }
        if (fds[0].revents != 0) {
            if (drain_ssh_socket(event_) == SSH_ERROR) {
                break;
            }
        }
        if (fds[1].revents != 0) {
            unsigned char signal = 0;
            while (read(g_signal_pipe[0], &signal, 1) == 1) {
                forward_signal(signal, tty);
            }
        }
        if (fds[2].revents != 0) {
            uint32_t window = ssh_channel_window_size(channel_);
            std::size_t want = window < sizeof buffer ? window : sizeof buffer;
            ssize_t n = read(0, buffer, want);
            if (n > 0) {
                int sent = ssh_channel_write(channel_, buffer, static_cast<uint32_t>(n));
                sent_total_ += static_cast<std::uint64_t>(sent > 0 ? sent : 0);
                if (sent != n) {
                    K8PSH_DEBUG_LOG("client", "short channel write: {} of {}", sent, n);
                }
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                stdin_open = false;
                K8PSH_DEBUG_LOG("client", "stdin ended after {} bytes", sent_total_);
                ssh_channel_send_eof(channel_);
            }
        }
        if (!ssh_is_connected(ssh_)) {
            break;
        }
    }
}

int RemoteRun::run(const std::string &relative_cwd) {
    // A PTY merges stderr into stdout and rewrites line endings: only invisible when all three
    // streams are the terminal. `stub cmd | grep` or `stub cmd 2>log` stay raw, as local.
    bool tty = request_.tty == TtyMode::Always ||
               (request_.tty == TtyMode::Auto && isatty(0) && isatty(1) && isatty(2));
    switch (send_request(relative_cwd, tty)) {
    case RequestResult::Sent:
        break;
    case RequestResult::TooLong:
        return exit_code::kUsage;
    case RequestResult::Refused:
        spdlog::error("server '{}' refused the request: {}", request_.section->name, ssh_get_error(ssh_));
        return exit_code::kConnection;
    }
    K8PSH_DEBUG_LOG("client", "exec sent");
    if (tty && isatty(0)) {
        enter_raw_mode();
    }
    loop(tty);
    K8PSH_DEBUG_LOG("client", "channel closed, exit {}", exit_code_);
    restore_terminal();
    if (exit_code_ < 0) {
        // Never report success without a status from the server (SPEC §5).
        spdlog::error("connection to server '{}' lost before the command's exit status arrived",
                      request_.section->name);
        return exit_code::kConnection;
    }
    return exit_code_;
}

}  // namespace

int run_remote(const ClientRequest &request) {
    std::string relative_cwd;
    try {
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd) == nullptr) {
            spdlog::error("cannot determine the working directory: {}", strerror(errno));
            return exit_code::kUsage;
        }
        relative_cwd = relative_workdir(request.config->base_directory, cwd);
    } catch (const WorkdirError &error) {
        spdlog::error("{}", error.what());
        return exit_code::kUsage;
    }
    install_signal_handlers();

    ConnectTarget target;
    target.port = request.section->port;
    target.server_name = request.section->name;
    target.key_directory = request.key_directory;
    target.timeout_ms = request.config->connect_timeout_ms;
    ssh_session session = nullptr;
    try {
        session = connect_authenticated(target);
    } catch (const ConnectError &error) {
        spdlog::error("{}", error.message);
        return exit_code::kConnection;
    }
    int code = RemoteRun(request, session).run(relative_cwd);
    ssh_disconnect(session);
    ssh_free(session);
    return code;
}

int check_servers(const Config &config, const std::string &key_directory) {
    bool all_ok = true;
    for (const auto &server : config.servers) {
        ConnectTarget target;
        target.port = server.port;
        target.server_name = server.name;
        target.key_directory = key_directory;
        target.timeout_ms = 0;  // one attempt: --check reports the state now
        std::string state = "ok";
        try {
            ssh_session session = connect_authenticated(target);
            ssh_disconnect(session);
            ssh_free(session);
        } catch (const ConnectError &error) {
            state = "FAILED: " + error.message;
            all_ok = false;
        }
        std::cout << "server " << server.name << " 127.0.0.1:" << server.port << " " << state << "\n";
        for (const auto &command : server.commands) {
            std::cout << "  " << command.name << (state == "ok" ? "" : " (unreachable)") << "\n";
        }
    }
    return all_ok ? 0 : exit_code::kConnection;
}

}  // namespace k8psh
