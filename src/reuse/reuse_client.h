#pragma once
// A stub's side of connection reuse (reuse_master.h): hand the command to the master of its
// container and wait for the exit code, forwarding the signals the stub receives.
#include "client_connection.h"
#include "run_request.h"
#include "reuse_socket.h"

#include <optional>

namespace k8psh {

enum class MasterState { Served, Missing, Unavailable, Untrusted };

struct MasterRun {
    // Missing: start one. Unavailable: busy or exiting. Untrusted: the directory or the socket is
    // not ours alone (reuse_directory.h): nothing was sent, and no master is started there.
    MasterState state = MasterState::Missing;
    RunOutcome outcome;  // when Served
};

// Runs `request` through the master at `endpoint`. Signal numbers arrive as bytes on
// `signal_fd` (the stub's self-pipe). Unless Served, nothing ran: the stub runs it itself.
// Nothing (no descriptor, no byte) is sent before the directory and the listening socket's
// owner have been checked.
MasterRun run_via_master(const ReuseEndpoint &endpoint, const WireRequest &request, int signal_fd);

enum class MissingMaster { Start, Leave };

// The reuse layer's one entry point for a stub: runs `request` through the container's master
// for `target` (found by its identity, reuse_identity.h) and returns the outcome; or, when no
// master served it, nullopt after starting one if none was there (unless told to Leave it).
// Nothing ran then: the stub connects itself. `reuse_ms` is connectionReuseMs (> 0).
std::optional<RunOutcome> run_through_master(const ConnectTarget &target, long reuse_ms, const WireRequest &request,
                                             int signal_fd, MissingMaster missing);

}  // namespace k8psh
