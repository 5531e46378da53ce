#pragma once
// Connection reuse (README: Connection reuse): a stub's own SSH handshake (process start of OpenSSL, key
// exchange, authentication) costs more than the command it runs. The first stub of a container
// therefore leaves a master behind: a small detached process, one per identity (server, keys,
// configuration: reuse_identity.h), that keeps one authenticated connection ready and runs the
// next stubs' commands on it. A stub hands it its stdin/stdout/stderr over a private local
// socket (reuse_socket.h), forwards its signals and exits with the code the master sends back.
// Commands share one connection, a channel each (reuse_connection.h), as OpenSSH's ControlMaster
// does; it is opened ahead of the first stub and again when the server hung it up. The master
// exits after connectionReuseMs without work, or as soon as its server is gone, or on SIGTERM,
// removing its socket and lock file.
#include "client_connection.h"
#include "reuse_socket.h"

namespace k8psh {

// Forks the master for `endpoint` and returns at once; it exits at once if another master
// already holds the endpoint's lock.
void start_reuse_master(const ReuseEndpoint &endpoint, const ConnectTarget &target, long idle_ms);

}  // namespace k8psh
