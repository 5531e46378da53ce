#pragma once
// Owners of libssh sessions, for both sides of the connection: a session is let go on every exit
// path, and which goodbye it gets is said by its type rather than by a pair of calls at each end.
// The one libssh header of common: both the client and the server layers see libssh anyway.
#include <libssh/libssh.h>

#include <memory>

namespace k8psh {

// A connected session: says goodbye to the peer (SSH_MSG_DISCONNECT, when still connected) and
// frees it.
struct SessionCloser {
    void operator()(ssh_session session) const {
        ssh_disconnect(session);
        ssh_free(session);
    }
};
using OwnedSession = std::unique_ptr<ssh_session_struct, SessionCloser>;

// A session with nobody to say goodbye to: not connected yet, its key exchange not done (a
// disconnect message would be a packet the peer cannot read), or its peer already gone.
struct SessionFree {
    void operator()(ssh_session session) const { ssh_free(session); }
};
using UnconnectedSession = std::unique_ptr<ssh_session_struct, SessionFree>;

}  // namespace k8psh
