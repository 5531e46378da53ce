#include "reuse_job.h"

#include "exit_codes.h"
#include "reuse_socket.h"

#include <cerrno>
#include <climits>
#include <algorithm>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

namespace k8psh {
namespace {

// How much a ready descriptor takes without blocking, decided once per descriptor.
OutputKind output_kind(int fd) {
    struct stat st {};
    if (fd < 0 || fstat(fd, &st) != 0) {
        return OutputKind::Other;
    }
    if (S_ISSOCK(st.st_mode)) {
        return OutputKind::Socket;
    }
    if (S_ISFIFO(st.st_mode)) {
        return OutputKind::Pipe;
    }
    if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
        return OutputKind::File;
    }
    return OutputKind::Other;  // a terminal
}

// A pipe's free room, leaving two pages for the slot accounting (a pipe holds pages, not bytes:
// a partly filled page is a whole slot). PIPE_BUF at least: a pipe that polls writable has a
// free page.
std::size_t pipe_room(int fd) {
    int capacity = fcntl(fd, F_GETPIPE_SZ);
    int unread = 0;
    if (capacity <= 0 || ioctl(fd, FIONREAD, &unread) != 0) {
        return PIPE_BUF;
    }
    long room = static_cast<long>(capacity) - unread - 2L * 4096;
    return room > PIPE_BUF ? static_cast<std::size_t>(room) : PIPE_BUF;
}

}  // namespace

ReuseJob::ReuseJob(WireRequest request, RunIo io, std::function<void()> wake_connection)
    : request_(std::move(request)),
      io_(io),
      wake_connection_(std::move(wake_connection)),
      wake_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      terminal_(io.terminal >= 0 ? fcntl(io.terminal, F_DUPFD_CLOEXEC, 0) : -1),
      out_kind_(output_kind(io.out)),
      err_kind_(output_kind(io.err)) {}

std::size_t ReuseJob::output_room() {
    std::lock_guard lock(mutex_);
    if (output_failed_ || stub_gone_) {
        return kIoChunk;  // nobody takes it any more: drained and dropped
    }
    return output_bytes_ < kOutputLimit ? kOutputLimit - output_bytes_ : 0;
}

void ReuseJob::add_output(bool is_stderr, const char *data, std::size_t size) {
    bool failed = false;
    {
        std::lock_guard lock(mutex_);
        if (output_failed_ || stub_gone_ || (is_stderr ? io_.err : io_.out) < 0) {
            return;  // nowhere to go (a PTY job has no stderr)
        }
        // Nothing of this job waits before these bytes (output_bytes_ counts the relay's chunk in
        // hand too), so whatever the descriptor takes at once may go now, from this thread, and
        // the hop through the relay thread is saved. Under the lock: the relay takes nothing
        // meanwhile, and the stub's thread closes its descriptors only after stub_gone_ is set
        // or, once finished_, after the relay returned.
        bool direct = output_bytes_ == 0 && !finished_;
        std::size_t written = direct ? write_now(is_stderr, data, size, failed) : 0;
        if (failed) {
            output_failed_ = true;
        } else if (written < size) {
            output_.push_back({is_stderr, std::string(data + written, size - written)});
            output_bytes_ += size - written;
        } else {
            return;
        }
    }
    if (failed) {
        wake_connection_();  // the command is hung up, as the relay's own failed write would
    } else {
        wake_relay();
    }
}

// How much of `data` the descriptor takes without any wait, from the connection thread, which
// must never wait for a stub's reader: MSG_DONTWAIT on a socket, RWF_NOWAIT elsewhere (a pipe
// since Linux 6.4, /dev/null). A descriptor that cannot promise it (a terminal, a file on most
// filesystems, an older kernel) says EOPNOTSUPP once and is left to the relay from then on.
// `failed` when the output is gone for good (EPIPE and the like).
std::size_t ReuseJob::write_now(bool is_stderr, const char *data, std::size_t size, bool &failed) {
    bool &relay_only = is_stderr ? err_relay_only_ : out_relay_only_;
    if (relay_only) {
        return 0;
    }
    int fd = is_stderr ? io_.err : io_.out;
    ssize_t n = -1;
    if ((is_stderr ? err_kind_ : out_kind_) == OutputKind::Socket) {
        n = send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
        iovec piece{const_cast<char *>(data), size};
        n = pwritev2(fd, &piece, 1, -1, RWF_NOWAIT);
    }
    if (n >= 0) {
        return static_cast<std::size_t>(n);
    }
    if (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) {
        relay_only = true;
    } else if (errno != EAGAIN && errno != EINTR) {
        failed = true;
    }
    return 0;
}

std::string ReuseJob::take_stdin(std::size_t max, bool &ended) {
    std::string taken;
    bool was_full = false;
    {
        std::lock_guard lock(mutex_);
        was_full = stdin_.size() >= kStdinLimit;
        if (stdin_.size() <= max) {
            taken.swap(stdin_);
        } else {
            taken = stdin_.substr(0, max);
            stdin_.erase(0, max);
        }
        ended = stdin_ended_ && stdin_.empty();
    }
    if (was_full && !taken.empty()) {
        wake_relay();  // it stopped reading stdin while the buffer was full
    }
    return taken;
}

std::vector<int> ReuseJob::take_signals() {
    std::lock_guard lock(mutex_);
    return std::exchange(signals_, {});
}

bool ReuseJob::stub_gone() {
    std::lock_guard lock(mutex_);
    return stub_gone_;
}

bool ReuseJob::output_failed() {
    std::lock_guard lock(mutex_);
    return output_failed_;
}

void ReuseJob::accept() {
    {
        std::lock_guard lock(mutex_);
        if (start_ == Start::Waiting) {
            tell_accepted();
        }
        start_ = Start::Accepted;
    }
    wake_relay();
}

void ReuseJob::tell_accepted() {
    // One byte into an empty socket the stub only reads from: it never blocks. A stub already
    // gone is not told: its thread may have closed the descriptor, whose number another stub's
    // descriptor may have by now (stub_gone_ is set, under this lock, before that close).
    told_ = !stub_gone_ && send(io_.control, &kAccepted, 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1;
}

bool ReuseJob::told() {
    std::lock_guard lock(mutex_);
    return told_;
}

void ReuseJob::decline() {
    {
        std::lock_guard lock(mutex_);
        start_ = Start::Declined;
    }
    wake_relay();
}

bool ReuseJob::await_start() {
    for (;;) {
        {
            std::lock_guard lock(mutex_);
            if (start_ != Start::Waiting) {
                return start_ == Start::Accepted;
            }
        }
        // Signals the stub forwards meanwhile are kept for the command; its end is noticed.
        pollfd fds[2] = {{wake_.get(), POLLIN, 0}, {io_.control, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            fds[1].revents = POLLHUP;
        }
        if (fds[0].revents != 0) {
            std::uint64_t count = 0;
            (void)!read(wake_.get(), &count, sizeof count);
        }
        if (fds[1].revents != 0 && !read_control()) {
            {
                std::lock_guard lock(mutex_);
                if (start_ == Start::Accepted) {
                    // Accepted before this thread got its turn, then the stub left: the command
                    // runs, so relay() takes over and notices the stub's end itself.
                    return true;
                }
                stub_gone_ = true;
            }
            wake_connection_();
            return false;
        }
    }
}

void ReuseJob::finish(RunOutcome outcome) {
    {
        std::lock_guard lock(mutex_);
        if (start_ == Start::Waiting) {
            tell_accepted();
        }
        start_ = Start::Accepted;
        finished_ = true;
        outcome_ = std::move(outcome);
    }
    wake_relay();
}

void ReuseJob::wake_relay() {
    std::uint64_t one = 1;
    (void)!write(wake_.get(), &one, sizeof one);
}

// False once stdin ended (end of file or an error: the command sees its stdin end either way).
bool ReuseJob::read_stdin() {
    std::size_t room = 0;
    {
        std::lock_guard lock(mutex_);
        room = kStdinLimit - stdin_.size();
    }
    std::string buffer(room < kIoChunk ? room : kIoChunk, '\0');
    ssize_t n = read(io_.in, buffer.data(), buffer.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return true;
    }
    std::lock_guard lock(mutex_);
    if (n <= 0) {
        stdin_ended_ = true;
        return false;
    }
    stdin_.append(buffer.data(), static_cast<std::size_t>(n));
    return true;
}

// Signal numbers, one byte each. False once the stub's socket ended: the stub is gone.
bool ReuseJob::read_control() {
    unsigned char bytes[64];
    ssize_t n = recv(io_.control, bytes, sizeof bytes, MSG_DONTWAIT);
    if (n > 0) {
        std::lock_guard lock(mutex_);
        signals_.insert(signals_.end(), bytes, bytes + n);
        return true;
    }
    return n < 0 && (errno == EINTR || errno == EAGAIN);
}

// As much of `chunk` as the ready descriptor takes without blocking. The descriptor is the
// stub's own stdout or stderr, an open file shared with its shell and siblings: it stays
// blocking (a non-blocking flag would surprise all of them), so no more is written than a ready
// descriptor takes at once: anything on a socket (MSG_DONTWAIT is per call), a pipe's free
// room, anything to a regular file, PIPE_BUF bytes to a terminal. Waiting for room happens
// in relay()'s poll, beside the stub's socket: a stub killed while nobody reads its output is
// still noticed. False when the output failed; errno says why.
bool ReuseJob::write_output(Chunk &chunk, std::size_t &written) {
    int fd = chunk.is_stderr ? io_.err : io_.out;
    const char *data = chunk.bytes.data() + written;
    std::size_t size = chunk.bytes.size() - written;
    ssize_t n = -1;
    switch (chunk.is_stderr ? err_kind_ : out_kind_) {
    case OutputKind::Socket: n = send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL); break;
    case OutputKind::Pipe: n = write(fd, data, std::min(size, pipe_room(fd))); break;
    case OutputKind::File: n = write(fd, data, size); break;
    case OutputKind::Other: n = write(fd, data, std::min<std::size_t>(size, PIPE_BUF)); break;
    }
    if (n < 0) {
        return errno == EINTR || errno == EAGAIN;
    }
    written += static_cast<std::size_t>(n);
    return true;
}

RunOutcome ReuseJob::relay() {
    Chunk current{false, {}};
    std::size_t written = 0;
    bool writing = false;
    for (;;) {
        bool want_stdin = false;
        {
            std::lock_guard lock(mutex_);
            if (!writing && !output_.empty()) {
                current = std::move(output_.front());
                output_.pop_front();
                written = 0;
                writing = true;
            }
            if (finished_ && !writing) {
                return outcome_;
            }
            want_stdin = !stdin_ended_ && stdin_.size() < kStdinLimit;
        }
        int out_fd = writing ? (current.is_stderr ? io_.err : io_.out) : -1;
        pollfd fds[4] = {{wake_.get(), POLLIN, 0},
                         {io_.control, POLLIN, 0},
                         {want_stdin ? io_.in : -1, POLLIN, 0},
                         {out_fd, POLLOUT, 0}};
        if (poll(fds, 4, -1) < 0 && errno != EINTR) {
            fds[1].revents = POLLHUP;  // cannot wait: treat as the stub's end, the command is hung up
        }
        if (fds[0].revents != 0) {
            std::uint64_t count = 0;
            (void)!read(wake_.get(), &count, sizeof count);
        }
        bool news = false;
        if (fds[1].revents != 0) {
            if (!read_control()) {
                {
                    std::lock_guard lock(mutex_);
                    stub_gone_ = true;
                }
                wake_connection_();
                return {exit_code::kConnection, "the stub went away"};
            }
            news = true;
        }
        if (fds[2].revents != 0) {
            read_stdin();
            news = true;
        }
        if (fds[3].revents != 0) {
            bool ok = (fds[3].revents & POLLNVAL) == 0 && write_output(current, written);
            if (!ok || written == current.bytes.size()) {
                std::lock_guard lock(mutex_);
                bool was_full = output_bytes_ >= kOutputLimit;
                output_bytes_ -= current.bytes.size();
                writing = false;
                if (!ok) {
                    // SIGPIPE is ignored in the master (a stub would die of it): the command's
                    // output has nowhere to go, so it is hung up like a stub's would be.
                    output_failed_ = true;
                    output_.clear();
                    output_bytes_ = 0;
                }
                news = news || was_full || !ok;
            }
        }
        if (news) {
            wake_connection_();
        }
    }
}

}  // namespace k8psh
