#pragma once
// One command on an authenticated session: open the session channel, send env/pty/exec
// (README: How a command runs), then move stdio both ways until the server closes the channel. Used by a stub on
// its own connection and by the reuse master (reuse_master.h) on a connection it kept warm.
#include "run_request.h"

#include <libssh/libssh.h>

#include <string>

namespace k8psh {

RunOutcome run_on_session(ssh_session session, const WireRequest &request, const RunIo &io,
                          const std::string &server_name);

}  // namespace k8psh
