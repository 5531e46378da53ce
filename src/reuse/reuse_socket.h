#pragma once
// The local socket between stubs and the reuse master of their container (reuse_master.h):
// where it lives, and the few messages that cross it.
//
//   stub → master   request: header with the stub's stdin/stdout/stderr attached (SCM_RIGHTS),
//                   then env pairs and the exec string (remote_run.h's WireRequest);
//                   afterwards one byte per signal the stub received, to forward.
//   master → stub   'A' once the request is read (from then on the command may run; before it,
//                   nothing ran and the stub may run the command itself), then the result:
//                   'R', exit code, and the error line for k8psh's own failures.
#include "run_request.h"

#include <optional>
#include <string>

namespace k8psh {

struct ReuseEndpoint {
    std::string directory;  // ${TMPDIR:-/tmp}/k8psh-UID, 0700, ours (reuse_directory.h)
    std::string name;       // HASH of the master's identity (reuse_identity.h)
    std::string socket;     // DIRECTORY/HASH.sock
    std::string lock;       // HASH.lock: held by the master for its lifetime, inside DIRECTORY
    std::string log;        // HASH.sock.log: the master's debug lines, inside DIRECTORY
};

// The endpoint of the master with this identity. nullopt when the path would not fit a socket
// address. Pure: creates nothing.
std::optional<ReuseEndpoint> reuse_endpoint(const std::string &identity);

inline constexpr char kAccepted = 'A';
inline constexpr char kResult = 'R';

// Stub side. False if the master is not there or went away while reading it.
bool send_reuse_request(int socket, const WireRequest &request, const int fds[3]);

// Master side: reads one request and the three fds (close-on-exec); nullopt when the peer sent
// anything else, or more than the bounds of wire.h allow.
std::optional<WireRequest> receive_reuse_request(int socket, int fds[3]);

// 'R', code (4 bytes, little-endian), length (4 bytes), message.
std::string encode_result(int code, const std::string &error);
// Parses a complete result from the front of `bytes` (starting at 'R'); nullopt while incomplete.
std::optional<RunOutcome> decode_result(const std::string &bytes);

}  // namespace k8psh
