#pragma once
// libssh reads its socket 4 KiB at a time, one read per poll: after poll(2) says the socket is
// readable, keep dispatching without waiting while libssh still makes progress, so one wake-up
// moves a whole burst instead of 4 KiB (halves the syscalls of a stream).
#include <libssh/libssh.h>

namespace k8psh {

// SSH_ERROR when the connection failed, else SSH_OK.
int drain_ssh_socket(ssh_event event);

}  // namespace k8psh
