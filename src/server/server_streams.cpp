#include "server_channel.h"

#include "log.h"
#include "signals.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

namespace k8psh::server_detail {

void Channel::pump_stdin() {
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
                    close_fd(child_.stdin_fd);
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
                close_fd(child_.stdin_fd);
            }
            fd = -1;
            stdin_pending_.clear();
            continue;
        }
        stdin_pending_.erase(0, static_cast<std::size_t>(written));
    }
}

bool Channel::pump_output(int fd, bool is_stderr) {
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

void Channel::pump_pipe(int &fd, bool is_stderr) {
    if (fd >= 0 && !pump_output(fd, is_stderr)) {
        close_fd(fd);
    }
}

void Channel::send_exit() {
    // Everything the command held is closed before its status goes out: a client that has its
    // exit status sees a server with nothing of that command left open.
    release_command();
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
    // Then wait for the client's close. The connection outlives the channel, so its window
    // adjustments are still read: no TCP reset discards the tail of the output queued on the
    // client's side.
    phase_ = Phase::Closing;
    linger_deadline_ = Clock::now() + std::chrono::milliseconds(kCloseLingerMs);
}

}  // namespace k8psh::server_detail
