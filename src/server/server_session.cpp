#include "server_session_state.h"

#include "log.h"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace k8psh {
namespace server_detail {
namespace {

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

}  // namespace

Session::~Session() {
    if (child_running_) {
        // Never leave a command behind, whatever ended the session.
        signal_group(child_, SIGKILL);
        reap(child_);
    }
    give_back_command_slot();
    close_fd(slot_.wake_fd);
    close_child_fds(child_);
    leave_startup_slot();
    if (event_ != nullptr) {
        ssh_event_remove_session(event_, ssh_);
        ssh_event_free(event_);
    }
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
    ssh_set_message_callback(
        ssh_, [](ssh_session, ssh_message, void *) { return 1; }, nullptr);
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
        // Like a terminal hang-up: the job may clean up, then it is killed (README: Signals).
        K8PSH_DEBUG_LOG("server", "{}: client gone, SIGHUP to {}", peer_, command_name_);
        signal_group(child_, SIGHUP);
        arm_kill(context_.hangup_grace_ms);
    } else {
        done_ = true;
    }
}

void Session::loop() {
    const auto login_deadline = started_ + std::chrono::milliseconds(context_.login_grace_ms);
    const int ssh_fd = ssh_get_fd(ssh_);
    while (!done_) {
        // The master stays open until the command is reaped: closing it hangs the terminal up,
        // which would SIGHUP a command that closed its stdio but has not exited yet.
        int pty_fd = want_pty_ && !pty_drained_ ? pty_.master() : -1;
        bool window_open = channel_ != nullptr && !vanished_ && ssh_channel_window_size(channel_) > 0;

        pollfd fds[8];
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
        int i_pty =
            add(pty_fd, static_cast<short>((window_open ? POLLIN : 0) | (!stdin_pending_.empty() ? POLLOUT : 0)));
        int i_in = add(child_.stdin_fd, !stdin_pending_.empty() ? POLLOUT : 0);
        int i_exit = add(child_running_ ? child_.pidfd : -1, POLLIN);
        int i_stop = add(shutdown_seen_ || closing_ ? -1 : context_.shutdown_fd, POLLIN);
        int i_slot = add(waiting_for_slot_ ? slot_.wake_fd : -1, POLLIN);

        int timeout = -1;
        if (!exec_requested_) {
            timeout = remaining_ms(login_deadline);
        } else if (child_running_ && child_.pidfd < 0) {
            timeout = 50;  // no pidfd (out of descriptors): look for the exit now and then
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
                give_back_command_slot();
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
        if (fired(i_slot)) {
            std::uint64_t count = 0;
            (void)!read(slot_.wake_fd, &count, sizeof count);
            if (context_.command_slots->holds(slot_)) {
                waiting_for_slot_ = false;
                spawn_pending();
            }
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

}  // namespace server_detail

bool serve_session(ssh_session session, const ServerContext &context, std::uint64_t startup_ticket) {
    server_detail::Session server_side(session, context, startup_ticket);
    server_side.run();
    return server_side.ran_command();
}

}  // namespace k8psh
