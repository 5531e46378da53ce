#include "client.h"

#include "argv_quoting.h"
#include "client_connection.h"
#include "env_rules.h"
#include "exit_codes.h"
#include "log.h"
#include "remote_run.h"
#include "terminal.h"
#include "reuse_client.h"
#include "wire.h"
#include "workdir.h"

#include <libssh/libssh.h>

#include <cerrno>
#include <cstdlib>
#include <optional>
#include <utility>
#include <variant>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

namespace k8psh {
namespace {

using wire::kArgvPartName;
using wire::kMaxExecBytes;

int g_signal_pipe[2] = {-1, -1};

void on_signal(int signal) {
    int saved = errno;
    unsigned char byte = static_cast<unsigned char>(signal);
    (void)!write(g_signal_pipe[1], &byte, 1);
    errno = saved;
}

// Signals the stub forwards to the remote process group (README: Signals), and SIGWINCH for PTYs.
constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

// Once per process: main's run after an unserved early one (run_if_master_serves) keeps the pipe.
void install_signal_handlers() {
    if (g_signal_pipe[0] >= 0 || pipe2(g_signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        return;
    }
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int signal : kForwarded) {
        sigaction(signal, &action, nullptr);
    }
    // Ctrl-Z: forwarded, then the stub stops itself; SIGCONT resumes both (README: Terminal).
    // A stub started with SIGTSTP ignored has no job control above it and keeps it ignored.
    struct sigaction tstp {};
    if (sigaction(SIGTSTP, nullptr, &tstp) == 0 && tstp.sa_handler != SIG_IGN) {
        sigaction(SIGTSTP, &action, nullptr);
        sigaction(SIGCONT, &action, nullptr);
    }
}

// `2>&1`, `>f 2>f`: stdout and stderr are one file, so the command may as well write both
// into one pipe, which keeps their order. Two streams over the channel cannot keep it.
bool stdout_is_stderr() {
    struct stat out {};
    struct stat err {};
    return fstat(1, &out) == 0 && fstat(2, &err) == 0 && out.st_dev == err.st_dev && out.st_ino == err.st_ino;
}

// The env requests and exec string for this invocation (README: How a command runs); nullopt, with the
// error line in `error`, when the quoted argv exceeds the limit both sides accept.
std::optional<WireRequest> build_wire_request(const ClientRequest &request, const std::string &relative_cwd, bool tty,
                                              std::string &error) {
    WireRequest wire;
    wire.tty = tty;
    if (tty) {
        const char *term = std::getenv("TERM");
        wire.term = term != nullptr ? term : "xterm";
        wire.size = terminal_size();
    }
    for (const auto &name : client_env_names(*request.command)) {
        if (const char *value = std::getenv(name.c_str()); value != nullptr) {
            wire.env.emplace_back(name, value);
        }
    }
    if (!relative_cwd.empty()) {
        wire.env.emplace_back(wire::kCwdName, relative_cwd);
    }
    // Carried in the request, so a reuse master holding our fds just passes it on.
    if (!tty && stdout_is_stderr()) {
        wire.env.emplace_back(wire::kMergeStderrName, "1");
    }
    std::vector<std::string> argv{request.command->name};
    argv.insert(argv.end(), request.args.begin(), request.args.end());
    std::string exec = quote_argv(argv);
    if (exec.size() > kMaxExecBytes) {
        error = fmt::format("argument list too long: {} bytes quoted (limit {} bytes)", exec.size(), kMaxExecBytes);
        return std::nullopt;
    }
    // One SSH packet cannot carry a long link line: the head goes ahead as numbered-by-order
    // env requests, the exec request carries the tail.
    wire::ExecPieces pieces = wire::split_exec(exec);
    for (auto &part : pieces.parts) {
        wire.env.emplace_back(kArgvPartName, std::move(part));
    }
    wire.exec = std::move(pieces.tail);
    return wire;
}

int report(const RunOutcome &outcome) {
    if (!outcome.error.empty()) {
        spdlog::error("{}", outcome.error);
    }
    return outcome.code;
}

// What a run sends and to whom: everything decided before the network.
struct PreparedRun {
    WireRequest wire;
    ConnectTarget target;
    bool via_master = false;  // connectionReuseMs > 0, and stdin no terminal unless all three are
};

// Or, when the run cannot start, its exit code and error line (for run_remote to report).
std::variant<PreparedRun, RunOutcome> prepare_run(const ClientRequest &request) {
    std::string relative_cwd;
    try {
        char cwd[4096];
        if (getcwd(cwd, sizeof cwd) == nullptr) {
            return RunOutcome{exit_code::kUsage,
                              fmt::format("cannot determine the working directory: {}", strerror(errno))};
        }
        relative_cwd = relative_workdir(request.config->base_directory, cwd);
    } catch (const WorkdirError &error) {
        return RunOutcome{exit_code::kUsage, error.what()};
    }
    // A PTY merges stderr into stdout and rewrites line endings: only invisible when all three
    // streams are the terminal. `stub cmd | grep` or `stub cmd 2>log` stay raw, as local.
    bool tty = request.tty == TtyMode::Always || (request.tty == TtyMode::Auto && isatty(0) && isatty(1) && isatty(2));
    std::string error;
    auto wire = build_wire_request(request, relative_cwd, tty, error);
    if (!wire.has_value()) {
        return RunOutcome{exit_code::kUsage, error};
    }
    PreparedRun run;
    run.wire = std::move(*wire);
    run.target.port = request.section->port;
    run.target.server_name = request.section->name;
    run.target.key_directory = request.key_directory;
    run.target.timeout_ms = request.config->connect_timeout_ms;
    // Through the container's reuse master when there is one. The master never reads a
    // terminal: outside the terminal's job control, it would read it even for a background
    // job. So a terminal session relays its terminal itself (reuse_client.h), and a stub that
    // only has a terminal on stdin (`stub cmd | less`) connects itself.
    run.via_master = request.config->connection_reuse_ms > 0 && (tty || !isatty(0));
    return run;
}

}  // namespace

int run_remote(const ClientRequest &request) {
    auto prepared = prepare_run(request);
    if (const RunOutcome *failed = std::get_if<RunOutcome>(&prepared)) {
        return report(*failed);
    }
    const PreparedRun &run = std::get<PreparedRun>(prepared);
    install_signal_handlers();
    if (run.via_master) {
        if (auto served = run_through_master(run.target, request.config->connection_reuse_ms, run.wire,
                                             g_signal_pipe[0], MissingMaster::Start)) {
            return report(*served);
        }
    }

    OwnedSession session;
    try {
        ConnectTarget own = run.target;
        own.interrupt_fd = g_signal_pipe[0];
        session = connect_authenticated(own);
    } catch (const ConnectError &error) {
        if (error.signal != 0) {
            return exit_code::kSignalBase + error.signal;
        }
        spdlog::error("{}", error.message);
        return exit_code::kConnection;
    }
    RunIo io;
    io.control = g_signal_pipe[0];
    RunOutcome outcome = run_on_session(session.get(), run.wire, io, request.section->name);
    session.reset();  // the connection ends before the outcome is reported
    return report(outcome);
}

std::optional<RunOutcome> run_if_master_serves(const ClientRequest &request) {
    auto prepared = prepare_run(request);
    const PreparedRun *run = std::get_if<PreparedRun>(&prepared);
    if (run == nullptr || !run->via_master) {
        return std::nullopt;
    }
    install_signal_handlers();
    return run_through_master(run->target, request.config->connection_reuse_ms, run->wire, g_signal_pipe[0],
                              MissingMaster::Leave);
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
            OwnedSession session = connect_authenticated(target);
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
