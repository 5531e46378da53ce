#pragma once
// The plain data of one remote command: what the stub sends, where its streams go, how it ended.
// Kept apart from remote_run.h so the reuse socket can carry them without seeing libssh.
#include "window_size.h"

#include <string>
#include <utility>
#include <vector>

namespace k8psh {

// What goes on the wire for one invocation, computed by the stub (env rules, cwd, quoting).
struct WireRequest {
    std::vector<std::pair<std::string, std::string>> env;  // env requests, in order (cwd included)
    std::string exec;                                      // the quoted argv, possibly > one packet
    bool tty = false;                                      // request a PTY of the local terminal
    std::string term;                                      // with tty: $TERM for the pty-req
    WindowSize size;                                       // with tty: the terminal's size at the start
};

// Where the command's streams go, and where forwarded signals come from: one byte per signal
// number is read from `control` (a stub's self-pipe; in a reuse master, the stub's socket,
// whose end means the stub is gone and its command is hung up, README: Signals).
struct RunIo {
    int in = 0;
    int out = 1;
    int err = 2;
    int control = -1;
    int terminal = -1;  // a reuse master's terminal job: the stub's terminal, read only for its size
};

// The exit code to report, and the one error line for k8psh's own failures ("" otherwise).
struct RunOutcome {
    int code = 0;
    std::string error;
};

}  // namespace k8psh
