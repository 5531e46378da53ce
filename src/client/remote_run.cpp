#include "remote_run.h"

#include "exit_codes.h"
#include "job_control.h"
#include "log.h"
#include "pty_output.h"
#include "signals.h"
#include "ssh_drain.h"
#include "sys.h"
#include "terminal.h"
#include "wire.h"

#include <libssh/callbacks.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <poll.h>
#include <unistd.h>

namespace k8psh {
namespace {

class RemoteRun {
public:
    RemoteRun(ssh_session session, const WireRequest &request, const RunIo &io)
        : ssh_(session), request_(request), io_(io) {}
    ~RemoteRun() {
        if (request_.tty) {
            restore_terminal();
        }
        if (event_ != nullptr) {
            ssh_event_remove_session(event_, ssh_);
            ssh_event_free(event_);
        }
    }
    RemoteRun(const RemoteRun &) = delete;
    RemoteRun &operator=(const RemoteRun &) = delete;

    RunOutcome run(const std::string &server_name);

private:
    static int data_cb(ssh_session, ssh_channel, void *data, uint32_t len, int is_stderr, void *self_ptr) {
        auto *self = static_cast<RemoteRun *>(self_ptr);
        const char *bytes = static_cast<const char *>(data);
        std::size_t size = len;
        if (self->keep_line_feeds_) {
            self->translated_.clear();
            self->line_feeds_.translate(bytes, size, self->translated_);
            bytes = self->translated_.data();
            size = self->translated_.size();
        }
        self->output(is_stderr != 0, bytes, size);
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

    void output(bool is_stderr, const char *data, std::size_t size);
    bool send_request();
    void loop();
    void forward_signal(int signal);
    void on_signal(int signal);
    void read_control();

    ssh_session ssh_;
    const WireRequest &request_;
    RunIo io_;
    ssh_channel channel_ = nullptr;
    ssh_event event_ = nullptr;
    ssh_channel_callbacks_struct callbacks_{};
    int exit_code_ = -1;
    bool closed_ = false;
    bool output_broken_ = false;
    bool raw_wanted_ = false;       // this run put the local terminal in raw mode
    bool keep_line_feeds_ = false;  // the local terminal would add \r to the remote's bare \n
    LineFeedKeeper line_feeds_;
    std::string translated_;
    std::uint64_t sent_total_ = 0;
};

// Written before the callback returns, so the window only grows as fast as our reader drains.
void RemoteRun::output(bool is_stderr, const char *data, std::size_t size) {
    if (output_broken_) {
        return;  // the run is ending; what is still in flight has nowhere to go
    }
    // The stub's own stdout: if nobody reads it and the stub is killed, the process and its
    // connection go with it, and the server hangs up the command.
    if (!write_all(is_stderr ? io_.err : io_.out, data, size)) {
        output_broken_ = errno == EPIPE;
    }
}

bool RemoteRun::send_request() {
    if (request_.tty) {
        const char *term = std::getenv("TERM");
        WindowSize size = terminal_size();
        if (ssh_channel_request_pty_size(channel_, term != nullptr ? term : "xterm", size.columns, size.rows) !=
            SSH_OK) {
            return false;
        }
    }
    for (const auto &[name, value] : request_.env) {
        if (ssh_channel_request_env(channel_, name.c_str(), value.c_str()) != SSH_OK && name == wire::kArgvPartName) {
            return false;  // a lost piece of argv would run the wrong command line
        }
    }
    return ssh_channel_request_exec(channel_, request_.exec.c_str()) == SSH_OK;
}

void RemoteRun::forward_signal(int signal) {
    if (signal == SIGWINCH) {
        if (request_.tty) {
            WindowSize size = terminal_size();
            ssh_channel_change_pty_size(channel_, size.columns, size.rows);
        }
        return;
    }
    std::string name = ssh_name_of_signal(signal);
    if (name.empty()) {
        return;
    }
    K8PSH_DEBUG_LOG("client", "forwarding SIG{}", name);
    ssh_channel_request_send_signal(channel_, name.c_str());
}

// Ctrl-Z and `fg` also stop and resume the stub itself (README: Terminal).
void RemoteRun::on_signal(int signal) {
    if (signal == SIGTSTP) {
        forward_signal(signal);
        ssh_blocking_flush(ssh_, 1000);  // sent before we stop, not when we are continued
        suspend_self();
        return;
    }
    if (signal == SIGCONT) {
        resume_terminal(raw_wanted_);
    }
    forward_signal(signal);
}

// Signal numbers, one byte each, from the stub's self-pipe (non-blocking).
void RemoteRun::read_control() {
    unsigned char signals[64];
    for (;;) {
        ssize_t n = read(io_.control, signals, sizeof signals);
        if (n <= 0) {
            return;
        }
        for (ssize_t i = 0; i < n; ++i) {
            on_signal(signals[i]);
        }
    }
}

void RemoteRun::loop() {
    ssh_set_blocking(ssh_, 0);
    event_ = ssh_event_new();
    ssh_event_add_session(event_, ssh_);
    const int ssh_fd = ssh_get_fd(ssh_);
    bool stdin_open = true;
    std::unique_ptr<char[]> buffer(new char[kIoChunk]);
    while (!closed_ && !output_broken_) {
        short ssh_events = POLLIN;
        if (ssh_get_poll_flags(ssh_) & SSH_WRITE_PENDING) {
            ssh_events |= POLLOUT;
        }
        // Read stdin only while the server can take it: that is the back-pressure upstream.
        bool want_stdin = stdin_open && ssh_channel_window_size(channel_) > 0;
        pollfd fds[3] = {{ssh_fd, ssh_events, 0}, {io_.control, POLLIN, 0}, {want_stdin ? io_.in : -1, POLLIN, 0}};
        if (poll(fds, 3, -1) < 0 && errno != EINTR) {
            break;
        }
        if (fds[0].revents != 0) {
            if (drain_ssh_socket(event_) == SSH_ERROR) {
                break;
            }
        }
        if (fds[1].revents != 0) {
            read_control();
        }
        if (fds[2].revents != 0) {
            uint32_t window = ssh_channel_window_size(channel_);
            std::size_t want = window < kIoChunk ? window : kIoChunk;
            ssize_t n = read(io_.in, buffer.get(), want);
            if (n > 0) {
                int sent = ssh_channel_write(channel_, buffer.get(), static_cast<uint32_t>(n));
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

RunOutcome RemoteRun::run(const std::string &server_name) {
    channel_ = ssh_channel_new(ssh_);
    callbacks_.userdata = this;
    callbacks_.channel_data_function = data_cb;
    callbacks_.channel_exit_status_function = exit_status_cb;
    callbacks_.channel_exit_signal_function = exit_signal_cb;
    callbacks_.channel_close_function = close_cb;
    ssh_callbacks_init(&callbacks_);
    ssh_set_channel_callbacks(channel_, &callbacks_);
    std::string refused = "server '" + server_name + "' refused the request: ";
    if (ssh_channel_open_session(channel_) != SSH_OK) {
        return {exit_code::kConnection, refused + ssh_get_error(ssh_)};
    }
    if (!send_request()) {
        return {exit_code::kConnection, refused + ssh_get_error(ssh_)};
    }
    K8PSH_DEBUG_LOG("client", "exec sent");
    if (request_.tty && isatty(io_.in)) {
        raw_wanted_ = true;
        enter_raw_mode();
        keep_line_feeds_ = isatty(io_.out) && terminal_adds_carriage_returns();
    }
    loop();
    K8PSH_DEBUG_LOG("client", "channel closed, exit {}", exit_code_);
    if (request_.tty) {
        restore_terminal();
    }
    if (output_broken_) {
        return {exit_code::kSignalBase + SIGPIPE, ""};
    }
    if (exit_code_ < 0) {
        // Never report success without a status from the server; 255 otherwise (README: Exit codes).
        return {exit_code::kConnection,
                "connection to server '" + server_name + "' lost before the command's exit status arrived"};
    }
    return {exit_code_, ""};
}

}  // namespace

RunOutcome run_on_session(ssh_session session, const WireRequest &request, const RunIo &io,
                          const std::string &server_name) {
    return RemoteRun(session, request, io).run(server_name);
}

}  // namespace k8psh
