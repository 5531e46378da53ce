#include "reuse_connection.h"

#include "exit_codes.h"
#include "log.h"
#include "signals.h"
#include "ssh_drain.h"
#include "terminal.h"
#include "wire.h"

#include <csignal>
#include <poll.h>

namespace k8psh {
namespace {

using Ending = ReuseConnection::Ending;

Ending &changed(void *ending) {
    auto &end = *static_cast<Ending *>(ending);
    ++*end.changes;
    return end;
}

// libssh hands over everything buffered for the stream, oldest first. What the stub's relay has
// room for is copied to it here, straight from libssh's buffer (reading it later would copy it
// once more through read_output's buffer: a third of the master's copying of a stream); the rest
// stays in libssh's buffer, and in its window, until the relay has room (read_output then).
int on_data(ssh_session, ssh_channel, void *data, uint32_t len, int is_stderr, void *ending) {
    Ending &end = changed(ending);
    std::size_t room = end.job->output_room();
    std::size_t taken = len < room ? len : room;
    if (taken > 0) {
        end.job->add_output(is_stderr != 0, static_cast<const char *>(data), taken);
    }
    if (taken < len) {
        end.unread = true;
    }
    return static_cast<int>(taken);
}

void on_exit_status(ssh_session, ssh_channel, int status, void *ending) {
    changed(ending).exit_code = status;
}

void on_exit_signal(ssh_session, ssh_channel, const char *signal, int, const char *, const char *, void *ending) {
    int number = signal_from_ssh_name(signal);
    changed(ending).exit_code = number != 0 ? exit_code::kSignalBase + number : exit_code::kConnection;
}

void on_close(ssh_session, ssh_channel, void *ending) {
    changed(ending).closed = true;
}

// The server grew the window: a channel whose stdin waits for it needs a turn, also when the
// adjust came in during a call made for another channel.
int on_window(ssh_session, ssh_channel, uint32_t, void *ending) {
    changed(ending);
    return 0;
}

}  // namespace

ReuseConnection::~ReuseConnection() {
    for (auto &run : runs_) {
        end_run(*run, {exit_code::kConnection, "the reuse master is stopping"});
    }
    runs_.clear();
    if (event_ != nullptr) {
        ssh_event_remove_session(event_, session_.get());
        ssh_event_free(event_);
    }
}

bool ReuseConnection::open(std::string &why, long timeout_ms) {
    if (session_ != nullptr) {
        return true;
    }
    ConnectTarget target = target_;
    target.timeout_ms = timeout_ms;
    try {
        session_ = connect_authenticated(target);
    } catch (const ConnectError &error) {
        why = error.message;
        return false;
    }
    ssh_set_blocking(session_.get(), 0);
    event_ = ssh_event_new();
    ssh_event_add_session(event_, session_.get());
    K8PSH_DEBUG_LOG("reuse", "connection to {}:{} ready", target_.host, target_.port);
    return true;
}

int ReuseConnection::fd() const {
    return session_ != nullptr ? ssh_get_fd(session_.get()) : -1;
}

short ReuseConnection::events() const {
    if (session_ == nullptr) {
        return 0;
    }
    return (ssh_get_poll_flags(session_.get()) & SSH_WRITE_PENDING) != 0 ? POLLIN | POLLOUT : POLLIN;
}

void ReuseConnection::start(const std::shared_ptr<ReuseJob> &job) {
    if (job->stub_gone()) {
        job->decline();
        return;
    }
    auto run = std::make_unique<Run>();
    run->job = job;
    std::string error;
    for (int attempt = 0; attempt < 2; ++attempt) {
        // One attempt: waiting for a server that is not there is the stub's own retry loop,
        // where its signals and connectTimeoutMs apply.
        if (session_ == nullptr && !open(error, 0)) {
            break;
        }
        switch (open_channel(*run, error)) {
        case Opened::Yes:  // accepted by open_channel, just before its exec went out
            runs_.push_back(std::move(run));
            return;
        case Opened::ExecFailed: job->finish({exit_code::kConnection, error}); return;
        case Opened::NotSent: attempt = 2; break;
        case Opened::ConnectionDead:
            // Nothing was sent for this command: safe to run it on a fresh connection.
            K8PSH_DEBUG_LOG("reuse", "connection went stale, trying a new one");
            lose_connection(error);
            break;
        }
    }
    K8PSH_DEBUG_LOG("reuse", "declined, the stub connects itself: {}", error);
    job->decline();
}

// In blocking mode: the replies come back in one round trip each, and the exec's reply means
// the server has started the command.
ReuseConnection::Opened ReuseConnection::open_channel(Run &run, std::string &error) {
    ssh_session session = session_.get();
    const std::string refused = "server '" + target_.server_name + "' refused the request: ";
    ssh_set_blocking(session, 1);
    run.channel = ssh_channel_new(session);
    run.ending.changes = &changes_;
    run.ending.job = run.job.get();
    run.callbacks.userdata = &run.ending;
    run.callbacks.channel_data_function = on_data;
    run.callbacks.channel_exit_status_function = on_exit_status;
    run.callbacks.channel_exit_signal_function = on_exit_signal;
    run.callbacks.channel_close_function = on_close;
    run.callbacks.channel_write_wontblock_function = on_window;
    ssh_callbacks_init(&run.callbacks);
    Opened opened = Opened::Yes;
    if (run.channel == nullptr || ssh_set_channel_callbacks(run.channel, &run.callbacks) != SSH_OK ||
        ssh_channel_open_session(run.channel) != SSH_OK) {
        opened = ssh_is_connected(session) != 0 ? Opened::NotSent : Opened::ConnectionDead;
    } else {
        const WireRequest &request = run.job->request();
        if (request.tty &&
            ssh_channel_request_pty_size(run.channel, request.term.empty() ? "xterm" : request.term.c_str(),
                                         request.size.columns, request.size.rows) != SSH_OK) {
            opened = Opened::NotSent;
        }
        for (const auto &[name, value] : opened == Opened::Yes ? request.env : decltype(request.env){}) {
            // A variable the server refuses is left out, as OpenSSH does; but a lost piece of
            // argv would run the wrong command line, and a request without its reply (timed out:
            // SSH_AGAIN) would leave libssh's request state pending, so that the next request
            // is never sent and returns this one's late reply.
            int rc = ssh_channel_request_env(run.channel, name.c_str(), value.c_str());
            if (rc == SSH_AGAIN || (rc != SSH_OK && name == wire::kArgvPartName)) {
                opened = Opened::NotSent;
                break;
            }
        }
        // Told before the exec goes out: a master killed right after the server started the
        // command must not leave a stub that runs it again. Should the exec fail now, the stub
        // gets 255 for a command that may not have run, never a second run.
        if (opened == Opened::Yes) {
            run.job->accept();
        }
        if (opened == Opened::Yes && ssh_channel_request_exec(run.channel, run.job->request().exec.c_str()) != SSH_OK) {
            opened = Opened::ExecFailed;
        }
    }
    ssh_set_blocking(session, 0);
    if (opened != Opened::Yes) {
        error = refused + ssh_get_error(session);
        if (run.channel != nullptr) {
            ssh_remove_channel_callbacks(run.channel, &run.callbacks);
            ssh_channel_free(run.channel);
            run.channel = nullptr;
        }
    }
    return opened;
}

void ReuseConnection::service() {
    if (session_ == nullptr) {
        return;
    }
    if (drain_ssh_socket(event_) == SSH_ERROR || ssh_is_connected(session_.get()) == 0) {
        lose_connection("connection to server '" + target_.server_name +
                        "' lost before the command's exit status arrived");
        return;
    }
    unsigned before = 0;
    do {
        before = changes_;
        for (auto it = runs_.begin(); it != runs_.end();) {
            it = service_run(**it) ? it + 1 : runs_.erase(it);
        }
    } while (changes_ != before);
    if (ssh_is_connected(session_.get()) == 0) {
        lose_connection("connection to server '" + target_.server_name +
                        "' lost before the command's exit status arrived");
    }
}

// False once the run ended (its job is finished).
bool ReuseConnection::service_run(Run &run) {
    ReuseJob &job = *run.job;
    if (job.stub_gone()) {
        end_run(run, {exit_code::kConnection, "the stub went away"});  // closing the channel hangs the command up
        return false;
    }
    if (job.output_failed()) {
        end_run(run, {exit_code::kSignalBase + SIGPIPE, ""});
        return false;
    }
    for (int signal : job.take_signals()) {
        if (signal == SIGWINCH) {
            if (job.terminal() >= 0 && !run.ending.closed) {
                WindowSize size = terminal_size(job.terminal());
                K8PSH_DEBUG_LOG("reuse", "window now {}x{}", size.columns, size.rows);
                ssh_channel_change_pty_size(run.channel, size.columns, size.rows);
            }
            continue;
        }
        std::string name = ssh_name_of_signal(signal);
        if (!name.empty() && !run.ending.closed) {
            K8PSH_DEBUG_LOG("reuse", "forwarding SIG{}", name);
            ssh_channel_request_send_signal(run.channel, name.c_str());
        }
    }
    if (!run.eof_sent) {
        uint32_t window = ssh_channel_window_size(run.channel);
        bool ended = false;
        std::string data = job.take_stdin(window < kIoChunk ? window : kIoChunk, ended);
        if (!data.empty()) {
            ssh_channel_write(run.channel, data.data(), static_cast<uint32_t>(data.size()));
        }
        if (ended) {
            ssh_channel_send_eof(run.channel);
            run.eof_sent = true;
        }
    }
    if (run.ending.unread && !read_output(run)) {
        return true;  // the stub is behind: this channel's window stays shut until it has room
    }
    // The server closes only after the exit status and all output (SPEC §5): once its close
    // came and nothing is left unread, the command is over.
    if (run.ending.closed) {
        if (run.ending.exit_code < 0) {
            end_run(run, {exit_code::kConnection, "connection to server '" + target_.server_name +
                                                      "' lost before the command's exit status arrived"});
        } else {
            end_run(run, {run.ending.exit_code, ""});
        }
        return false;
    }
    return true;
}

// Moves buffered output to the stub's relay while it has room. True once nothing is left.
bool ReuseConnection::read_output(Run &run) {
    char buffer[kIoChunk];
    // Cleared first, not last: ssh_channel_poll handles packets when its stream's buffer is
    // empty, so polling stderr may bring this channel's last stdout data (on_data sets the flag
    // again) together with its close. Cleared afterwards, that data was never read: the close
    // ended the run with the command's last bytes still in libssh's buffer.
    run.ending.unread = false;
    for (int is_stderr : {0, 1}) {
        // Only what is buffered: a read that finds nothing would handle packets (poll first).
        while (ssh_channel_poll(run.channel, is_stderr) > 0) {
            std::size_t room = run.job->output_room();
            if (room == 0) {
                run.ending.unread = true;
                return false;
            }
            int n = ssh_channel_read_nonblocking(
                run.channel, buffer, static_cast<uint32_t>(room < sizeof buffer ? room : sizeof buffer), is_stderr);
            if (n <= 0) {
                break;
            }
            run.job->add_output(is_stderr != 0, buffer, static_cast<std::size_t>(n));
        }
    }
    // Data that came in meanwhile counted as a change: service() gives this run another turn.
    return !run.ending.unread;
}

void ReuseConnection::end_run(Run &run, RunOutcome outcome) {
    if (run.channel != nullptr) {
        // libssh keeps a freed channel until the server's close: nothing may call back into us.
        ssh_remove_channel_callbacks(run.channel, &run.callbacks);
        ssh_channel_free(run.channel);  // sends our close if it was not sent: the server hangs up a running command
        run.channel = nullptr;
    }
    run.job->finish(std::move(outcome));
}

void ReuseConnection::lose_connection(const std::string &why) {
    K8PSH_DEBUG_LOG("reuse", "connection closed: {}", why);
    for (auto &run : runs_) {
        end_run(*run, {exit_code::kConnection, why});
    }
    runs_.clear();
    ssh_event_remove_session(event_, session_.get());
    ssh_event_free(event_);
    event_ = nullptr;
    UnconnectedSession gone(session_.release());  // nobody left to say goodbye to
}

}  // namespace k8psh
