#include "reuse_client.h"

#include "exit_codes.h"
#include "job_control.h"
#include "log.h"
#include "pty_output.h"
#include "reuse_directory.h"
#include "reuse_identity.h"
#include "reuse_master.h"
#include "sys.h"
#include "terminal.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace k8psh {
namespace {

// A terminal session through the master (README: Connection reuse): the master never touches
// the terminal's input (outside the terminal's job control it would read it even for a
// background job). The stub keeps the terminal: raw mode, reading it (a stub in the background
// is stopped by SIGTTIN like a local program), showing the output, Ctrl-Z and `fg`. Bytes cross
// to the master over a socket pair whose other end the master gets as stdin and stdout.
class TerminalRelay {
public:
    TerminalRelay() {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0) {
            stub_.reset(pair[0]);
            master_.reset(pair[1]);
        }
    }
    ~TerminalRelay() {
        if (raw_wanted_) {
            restore_terminal();
        }
    }
    TerminalRelay(const TerminalRelay &) = delete;
    TerminalRelay &operator=(const TerminalRelay &) = delete;

    bool ready() const { return stub_.get() >= 0; }
    int master_end() const { return master_.get(); }
    int stub_end() const { return stub_.get(); }
    bool wants_input() const { return input_open_; }
    void handed_over() { master_.reset(); }  // the master has its own copy: its end is our EOF

    // Once the exec went out, as a stub on its own connection does.
    void start() {
        if (isatty(0)) {
            raw_wanted_ = true;
            enter_raw_mode();
            keep_line_feeds_ = isatty(1) && terminal_adds_carriage_returns();
        }
    }
    void resume() { resume_terminal(raw_wanted_); }

    void pass_input() {
        char buffer[4096];
        ssize_t n = read(0, buffer, sizeof buffer);
        if (n > 0 && send_all(stub_.get(), buffer, static_cast<std::size_t>(n))) {
            return;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            return;
        }
        input_open_ = false;  // the terminal hung up: the command's input ends
        shutdown(stub_.get(), SHUT_WR);
    }
    // False once the master closed its end (all output shown).
    bool show_output() {
        char buffer[kIoChunk];
        ssize_t n = read(stub_.get(), buffer, sizeof buffer);
        if (n <= 0) {
            return n < 0 && errno == EINTR;
        }
        const char *bytes = buffer;
        std::size_t size = static_cast<std::size_t>(n);
        if (keep_line_feeds_) {
            translated_.clear();
            line_feeds_.translate(bytes, size, translated_);
            bytes = translated_.data();
            size = translated_.size();
        }
        (void)write_all(1, bytes, size);
        return true;
    }
    // The result came on the other socket: what the master wrote before it is still here.
    void finish_output() {
        while (show_output()) {
        }
    }

private:
    UniqueFd stub_;
    UniqueFd master_;
    bool input_open_ = true;
    bool raw_wanted_ = false;
    bool keep_line_feeds_ = false;
    LineFeedKeeper line_feeds_;
    std::string translated_;
};

}  // namespace

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
    int stdio[3] = {0, 1, 2};
    std::optional<TerminalRelay> terminal;
    if (request.tty) {
        terminal.emplace();
        if (!terminal->ready()) {
            return run;
        }
        stdio[0] = stdio[1] = terminal->master_end();
        stdio[2] = 0;  // the terminal itself, for its size alone
    }
    if (!send_reuse_request(sock.get(), request, stdio)) {
        return run;
    }
    K8PSH_DEBUG_LOG("reuse", "request handed to the master");
    if (terminal.has_value()) {
        terminal->handed_over();
    }
    bool accepted = false;
    int interrupted_by = 0;  // a signal that came before the verdict (the master still decides)
    std::string received;
    for (;;) {
        pollfd fds[4] = {{sock.get(), POLLIN, 0}, {signal_fd, POLLIN, 0}, {-1, POLLIN, 0}, {-1, POLLIN, 0}};
        if (accepted && terminal.has_value()) {
            fds[2].fd = terminal->stub_end();
            fds[3].fd = terminal->wants_input() ? 0 : -1;
        }
        if (poll(fds, 4, -1) < 0 && errno != EINTR) {
            break;
        }
        if (fds[1].revents != 0) {
            unsigned char signals[64];
            ssize_t n = read(signal_fd, signals, sizeof signals);
            if (n > 0) {
                K8PSH_DEBUG_LOG("reuse", "{} signal(s) to the master, first {}", n, signals[0]);
                (void)!send(sock.get(), signals, static_cast<std::size_t>(n), MSG_NOSIGNAL);
                for (ssize_t i = 0; i < n; ++i) {
                    const int signal = signals[i];
                    if (!accepted && interrupted_by == 0 && signal != SIGWINCH && signal != SIGTSTP &&
                        signal != SIGCONT) {
                        interrupted_by = signal;
                    }
                    if (signals[i] == SIGTSTP) {
                        // Ctrl-Z: the master stops the remote command, the stub stops itself.
                        suspend_self();
                    }
                    if ((signals[i] == SIGTSTP || signals[i] == SIGCONT) && terminal.has_value()) {
                        terminal->resume();
                    }
                }
            }
        }
        if (fds[2].revents != 0) {
            terminal->show_output();
        }
        if (fds[3].revents != 0) {
            terminal->pass_input();
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
            if (terminal.has_value()) {
                terminal->start();
            }
        }
        if (accepted && !received.empty()) {
            if (auto outcome = decode_result(received); outcome.has_value()) {
                if (terminal.has_value()) {
                    terminal->finish_output();
                }
                run.outcome = *outcome;
                return run;
            }
        }
    }
    if (!accepted && interrupted_by != 0) {
        // Declined (or the master went away) after the user's ^C: nothing ran, and nothing
        // should now, as with a stub interrupted while it waits for its server.
        run.state = MasterState::Served;
        run.outcome = {exit_code::kSignalBase + interrupted_by, ""};
        return run;
    }
    if (accepted) {
        // The command may have run: never report success, never run it a second time.
        run.outcome = {exit_code::kConnection,
                       "connection reuse master went away before the command's exit status arrived"};
    }
    return run;
}

std::optional<RunOutcome> run_through_master(const ConnectTarget &target, long reuse_ms, const WireRequest &request,
                                             int signal_fd, MissingMaster missing) {
    std::optional<ReuseEndpoint> endpoint = reuse_endpoint(master_identity(target, reuse_ms));
    if (!endpoint.has_value()) {
        return std::nullopt;  // no socket path short enough under $TMPDIR
    }
    MasterRun run = run_via_master(*endpoint, request, signal_fd);
    if (run.state == MasterState::Served) {
        return run.outcome;
    }
    if (run.state == MasterState::Missing && missing == MissingMaster::Start) {
        start_reuse_master(*endpoint, target, reuse_ms);
    }
    return std::nullopt;
}

}  // namespace k8psh
