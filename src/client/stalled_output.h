#pragma once
// Output written by the reuse master into a stub's stdout or stderr. The descriptor is the
// stub's own (passed over the socket): its open file is shared with the stub's shell and
// siblings, so it stays blocking (switching it to non-blocking would change it for all of
// them). A plain blocking write, though, waits for ever when nobody reads the output and the
// stub has been killed: the master would never notice, and the command would never get its
// hang-up. This writer waits for room and for the stub's socket together.
#include <cstddef>

namespace k8psh {

enum class OutputWrite {
    Done,      // every byte written
    Broken,    // the output failed (errno tells why, EPIPE for a reader that left)
    PeerGone,  // the stub's socket hung up while the output was stalled: stop the command
};

// Writes all of `data` to `fd`, a blocking descriptor. Waits in poll() for room in `fd` and for
// a hang-up on `peer`, and writes no more than a ready descriptor takes without blocking:
// anything on a socket (MSG_DONTWAIT leaves the file's flags alone), PIPE_BUF bytes elsewhere
// (a pipe that polls writable has a free buffer of at least that size).
OutputWrite write_output(int fd, const char *data, std::size_t size, int peer);

}  // namespace k8psh
