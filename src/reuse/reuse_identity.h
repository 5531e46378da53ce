#pragma once
// Which reuse master a stub may use. A master connects with what it was started with, for its
// whole life: two stubs share one only when everything that decides where and how it connects
// is the same, so a changed configuration or regenerated keys never run through an older master.
#include "client_connection.h"

#include <string>

namespace k8psh {

// The identity as one string (hashed into the socket's name, reuse_socket.h): the effective uid,
// the network namespace (127.0.0.1 is another host in another one), the key directory's real
// path and the client key's public half, the server's name, address and port, the connect
// timeout and the master's idle lifetime. Reads the key file; creates nothing.
std::string master_identity(const ConnectTarget &target, long idle_ms);

}  // namespace k8psh
