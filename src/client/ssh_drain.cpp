#include "ssh_drain.h"

namespace k8psh {

int drain_ssh_socket(ssh_event event) {
    // Bounded, so a flood on one socket cannot starve the pipes of the same loop.
    constexpr int kMaxRounds = 64;
    int rc = ssh_event_dopoll(event, 0);
    for (int round = 1; round < kMaxRounds && rc == SSH_OK; ++round) {
        rc = ssh_event_dopoll(event, 0);
    }
    return rc == SSH_ERROR ? SSH_ERROR : SSH_OK;
}

}  // namespace k8psh
