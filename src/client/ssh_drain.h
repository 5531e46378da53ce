#pragma once
// libssh reads its socket 4 KiB at a time, one read per poll: after poll(2) says the socket is
// readable, keep dispatching without waiting while libssh still makes progress, so one wake-up
// moves a whole burst instead of 4 KiB (halves the syscalls of a stream).
// Client side only: on the server, draining a fast client's stdin this way let libssh queue
// data far beyond what the command had read, until its 256 MiB buffer limit dropped the rest
// of a 512 MiB stream (measured); the server reads one poll's worth at a time instead.
#include <libssh/libssh.h>

namespace k8psh {

// SSH_ERROR when the connection failed, else SSH_OK.
int drain_ssh_socket(ssh_event event);

}  // namespace k8psh
