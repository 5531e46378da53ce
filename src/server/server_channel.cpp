#include "server_channel.h"

#include "log.h"

#include <csignal>
#include <cstdint>
#include <unistd.h>

namespace k8psh::server_detail {

Channel::Channel(ssh_session ssh, const ServerContext &context, const std::string &peer)
    : ssh_(ssh), context_(context), peer_(peer) {
    channel_ = ssh_channel_new(ssh_);
    if (channel_ == nullptr) {
        return;
    }
    callbacks_.userdata = this;
    callbacks_.channel_env_request_function = env_cb;
    callbacks_.channel_exec_request_function = exec_cb;
    callbacks_.channel_shell_request_function = shell_cb;
    callbacks_.channel_subsystem_request_function = subsystem_cb;
    callbacks_.channel_pty_request_function = pty_cb;
    callbacks_.channel_pty_window_change_function = window_change_cb;
    callbacks_.channel_signal_function = signal_cb;
    callbacks_.channel_close_function = close_cb;
    ssh_callbacks_init(&callbacks_);
    ssh_set_channel_callbacks(channel_, &callbacks_);
}

Channel::~Channel() {
    if (child_running_) {
        // Never leave a command behind, whatever ended the channel or its connection.
        signal_group(child_, SIGKILL);
        reap(child_);
    }
    release_command();
    if (command_counted_) {
        // The server's idle timeout (-t) counts from the last command's end.
        if (context_.last_command_end != nullptr) {
            *context_.last_command_end = Clock::now().time_since_epoch().count();
        }
        --*context_.commands;
        // The listener's loop re-arms --idle-timeout, or exits once -m/-t's last command is
        // over: its connection may stay open (a reuse master), so its end would not wake it.
        if (context_.wake_fd >= 0) {
            std::uint64_t one = 1;
            (void)!write(context_.wake_fd, &one, sizeof one);
        }
    }
    if (channel_ != nullptr) {
        // libssh keeps a channel the client has not closed yet until it does: nothing of it may
        // call back into this object any more.
        ssh_remove_channel_callbacks(channel_, &callbacks_);
        ssh_channel_free(channel_);
    }
}

void Channel::release_command() {
    give_back_command_slot();
    close_fd(slot_.wake_fd);
    close_child_fds(child_);
    pty_.close_slave();
    pty_.close_master();
}

void Channel::begin_command() {
    phase_ = Phase::Running;
    command_started_ = Clock::now();
    if (context_.commands != nullptr) {
        ++*context_.commands;  // lowered again when the channel is dropped
        command_counted_ = true;
    }
}

void Channel::arm_kill(int grace_ms) {
    if (!kill_armed_) {
        kill_armed_ = true;
        kill_deadline_ = Clock::now() + std::chrono::milliseconds(grace_ms);
    }
}

void Channel::finish() {
    phase_ = Phase::Done;
}

void Channel::client_vanished() {
    if (vanished_ || phase_ == Phase::Done) {
        return;
    }
    vanished_ = true;
    if (child_running_) {
        // Like a terminal hang-up: the job may clean up, then it is killed (README: Signals).
        K8PSH_DEBUG_LOG("server", "{}: client gone, SIGHUP to {}", peer_, command_name_);
        signal_group(child_, SIGHUP);
        arm_kill(context_.hangup_grace_ms);
    } else {
        finish();
    }
}

void Channel::server_stopping() {
    if (shutdown_seen_ || phase_ == Phase::Closing || phase_ == Phase::Done) {
        return;  // a channel already ending keeps its last moments
    }
    shutdown_seen_ = true;
    if (!child_running_) {
        finish();
        return;
    }
    signal_group(child_, context_.wait_for_commands ? SIGTERM : SIGKILL);
    arm_kill(context_.wait_for_commands ? context_.shutdown_grace_ms : 0);
}

void Channel::watch(PollSet &set) {
    i_out_ = i_err_ = i_pty_ = i_in_ = i_exit_ = i_slot_ = -1;
    if (phase_ == Phase::Done) {
        return;
    }
    if (phase_ == Phase::Closing) {
        set.deadline(linger_deadline_);
        return;
    }
    // The master stays open until the command is reaped: closing it hangs the terminal up,
    // which would SIGHUP a command that closed its stdio but has not exited yet.
    const int pty_fd = want_pty_ && !pty_drained_ ? pty_.master() : -1;
    window_open_ = !vanished_ && ssh_channel_window_size(channel_) > 0;
    const short output = window_open_ ? POLLIN : 0;
    const short input = !stdin_pending_.empty() ? POLLOUT : 0;
    i_out_ = set.add(child_.stdout_fd, output);
    i_err_ = set.add(child_.stderr_fd, output);
    i_pty_ = set.add(pty_fd, static_cast<short>(output | input));
    i_in_ = set.add(child_.stdin_fd, input);
    i_exit_ = set.add(child_running_ ? child_.pidfd : -1, POLLIN);
    i_slot_ = set.add(phase_ == Phase::Queued ? slot_.wake_fd : -1, POLLIN);
    if (child_running_ && child_.pidfd < 0) {
        set.deadline(Clock::now() + std::chrono::milliseconds(50));  // no pidfd: look now and then
    }
    if (kill_armed_) {
        set.deadline(kill_deadline_);
    }
}

void Channel::step(const PollSet &set) {
    if (phase_ == Phase::Done) {
        return;
    }
    if (phase_ == Phase::Closing) {
        if (vanished_ || closed_by_client_ || Clock::now() >= linger_deadline_) {
            finish();
        }
        return;
    }
    if (kill_armed_ && Clock::now() >= kill_deadline_) {
        kill_armed_ = false;
        signal_group(child_, SIGKILL);
    }
    if (set.fired(i_exit_) || (child_running_ && child_.pidfd < 0)) {
        if (try_reap(child_, wait_status_)) {
            child_running_ = false;
            reaped_ = true;
            give_back_command_slot();
            // At shutdown the group's stragglers (a background job holding stdout) still get
            // their SIGKILL; otherwise they may keep the channel open, as with ssh.
            kill_armed_ = kill_armed_ && shutdown_seen_;
        }
    }
    if (vanished_) {
        if (!child_running_) {
            finish();
        }
        return;
    }
    if (closed_by_client_) {
        client_vanished();
        return;
    }
    if (phase_ == Phase::Requested) {
        return;
    }
    if (refused_code_ >= 0) {
        send_exit();
        return;
    }
    if (set.fired(i_slot_)) {
        std::uint64_t count = 0;
        (void)!read(slot_.wake_fd, &count, sizeof count);
        if (context_.command_slots->holds(slot_)) {
            phase_ = Phase::Running;
            spawn_pending();
        }
        return;
    }
    if (phase_ == Phase::Queued) {
        return;
    }
    pump_stdin();
    if (set.fired(i_out_)) {
        pump_pipe(child_.stdout_fd, false);
    }
    if (set.fired(i_err_)) {
        pump_pipe(child_.stderr_fd, true);
    }
    if (set.fired(i_pty_) && !pump_output(pty_.master(), false)) {
        pty_drained_ = true;
    }
    if (set.fired(i_in_) || set.fired(i_pty_)) {
        pump_stdin();
    }
    // The PTY's last output is read once the command is gone; a background job still holding
    // the terminal does not keep the channel open.
    if (reaped_ && want_pty_ && !pty_drained_ && window_open_) {
        if (!pump_output(pty_.master(), false) || ssh_channel_window_size(channel_) > 0) {
            pty_drained_ = true;
        }
    }
    const bool outputs_open = child_.stdout_fd >= 0 || child_.stderr_fd >= 0 || (want_pty_ && !pty_drained_);
    if (reaped_ && !outputs_open) {
        send_exit();
    }
}

void Channel::log_result() const {
    if (phase_ == Phase::Requested) {
        return;
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - command_started_).count();
    std::string result =
        exit_code_ >= 0 ? "exit " + std::to_string(exit_code_) : std::string(vanished_ ? "client vanished" : "aborted");
    spdlog::info("{} {} {} {}ms in={} out={}", peer_, command_name_, result, ms, bytes_in_, bytes_out_);
}

}  // namespace k8psh::server_detail
