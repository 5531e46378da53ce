#include "stalled_output.h"

#include <cerrno>
#include <climits>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace k8psh {

OutputWrite write_output(int fd, const char *data, std::size_t size, int peer) {
    bool is_socket = true;
    while (size > 0) {
        // POLLRDHUP alone: bytes the stub sends (forwarded signals) must not wake us, only
        // its end. POLLHUP and POLLERR are reported whatever is asked.
        pollfd fds[2] = {{fd, POLLOUT, 0}, {peer, POLLRDHUP, 0}};
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return OutputWrite::Broken;
        }
        if ((fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
            return OutputWrite::PeerGone;
        }
        if (fds[0].revents == 0) {
            continue;
        }
        if ((fds[0].revents & POLLNVAL) != 0) {
            errno = EBADF;
            return OutputWrite::Broken;
        }
        ssize_t n = -1;
        if (is_socket) {
            n = send(fd, data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
            is_socket = !(n < 0 && errno == ENOTSOCK);
        }
        if (!is_socket) {
            n = write(fd, data, size < PIPE_BUF ? size : PIPE_BUF);
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return OutputWrite::Broken;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return OutputWrite::Done;
}

}  // namespace k8psh
