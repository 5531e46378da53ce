#pragma once
// Opening an authenticated SSH connection to a server of the pod: retry while it is not
// listening yet (README: Finding the server), pin its host key to known_hosts (README: Keys and
// trust), public-key auth.
#include "ssh_owners.h"

#include <string>

namespace k8psh {

struct ConnectTarget {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string server_name;
    std::string key_directory;
    long timeout_ms = 30000;  // total time to keep retrying; negative: forever
    // The stub's signal self-pipe (one byte per signal number): a signal while waiting to retry
    // ends the attempt at once. -1: nothing interrupts the wait (the reuse master).
    int interrupt_fd = -1;
};

// What went wrong, for the one stderr line and the exit code (always 255 for these).
struct ConnectError {
    std::string message;
    int signal = 0;  // the wait was ended by this signal: no message, exit 128+N like a local program
};

// An authenticated session, or throws ConnectError.
OwnedSession connect_authenticated(const ConnectTarget &target);

}  // namespace k8psh
