#include "reuse_client.h"

#include "exit_codes.h"
#include "job_control.h"
#include "log.h"
#include "reuse_directory.h"
#include "reuse_identity.h"
#include "reuse_master.h"
#include "sys.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace k8psh {

MasterRun run_via_master(const ReuseEndpoint &endpoint, const WireRequest &request, int signal_fd) {
    MasterRun run;
    std::string why;
    UniqueFd directory(open_private_directory(endpoint.directory, why));
    if (directory.get() < 0) {
        if (errno == ENOENT) {
            run.state = MasterState::Missing;
            K8PSH_DEBUG_LOG("reuse", "no master yet: {}", why);
        } else {
            run.state = MasterState::Untrusted;
            K8PSH_DEBUG_LOG("reuse", "not trusted, own connection instead: {}", why);
        }
        return run;
    }
    UniqueFd sock(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    endpoint.socket.copy(address.sun_path, sizeof address.sun_path - 1);
    if (sock.get() < 0 || connect(sock.get(), reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
        // EAGAIN: a master whose backlog is full is busy, not missing.
        run.state = errno == ENOENT || errno == ECONNREFUSED ? MasterState::Missing : MasterState::Unavailable;
        K8PSH_DEBUG_LOG("reuse", "no master at {}: {}", endpoint.socket, strerror(errno));
        return run;
    }
    // The directory may have been swapped since it was checked (a parent others can write
    // into): whoever listens must be us.
    if (!peer_is_us(sock.get(), why)) {
        run.state = MasterState::Untrusted;
        K8PSH_DEBUG_LOG("reuse", "not trusted, own connection instead: {}: {}", endpoint.socket, why);
        return run;
    }
    run.state = MasterState::Unavailable;
    fcntl(sock.get(), F_SETFL, fcntl(sock.get(), F_GETFL) & ~O_NONBLOCK);
    const int stdio[3] = {0, 1, 2};
    if (!send_reuse_request(sock.get(), request, stdio)) {
        return run;
    }
    K8PSH_DEBUG_LOG("reuse", "request handed to the master");
    bool accepted = false;
    std::string received;
    for (;;) {
        pollfd fds[2] = {{sock.get(), POLLIN, 0}, {signal_fd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0 && errno != EINTR) {
            break;
        }
        if (fds[1].revents != 0) {
            unsigned char signals[64];
            ssize_t n = read(signal_fd, signals, sizeof signals);
            if (n > 0) {
                (void)!send(sock.get(), signals, static_cast<std::size_t>(n), MSG_NOSIGNAL);
                // Ctrl-Z: the master stops the remote command, the stub stops itself.
                if (std::memchr(signals, SIGTSTP, static_cast<std::size_t>(n)) != nullptr) {
                    suspend_self();
                }
            }
        }
        if (fds[0].revents == 0) {
            continue;
        }
        char buffer[4096];
        ssize_t n = read(sock.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        received.append(buffer, static_cast<std::size_t>(n));
        if (!accepted && received[0] == kAccepted) {
            accepted = true;
            run.state = MasterState::Served;
            received.erase(0, 1);
        }
        if (accepted && !received.empty()) {
            if (auto outcome = decode_result(received); outcome.has_value()) {
                run.outcome = *outcome;
                return run;
            }
        }
    }
    if (accepted) {
        // The command may have run: never report success, never run it a second time.
        run.outcome = {exit_code::kConnection,
                       "connection reuse master went away before the command's exit status arrived"};
    }
    return run;
}

std::optional<RunOutcome> run_through_master(const ConnectTarget &target, long reuse_ms, const WireRequest &request,
                                             int signal_fd) {
    std::optional<ReuseEndpoint> endpoint = reuse_endpoint(master_identity(target, reuse_ms));
    if (!endpoint.has_value()) {
        return std::nullopt;  // no socket path short enough under $TMPDIR
    }
    MasterRun run = run_via_master(*endpoint, request, signal_fd);
    if (run.state == MasterState::Served) {
        return run.outcome;
    }
    if (run.state == MasterState::Missing) {
        start_reuse_master(*endpoint, target, reuse_ms);
    }
    return std::nullopt;
}

}  // namespace k8psh
