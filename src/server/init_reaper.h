#pragma once
// `k8psh --init CMD [ARGS…]`: a container entry that reaps, like tini. A client container's
// reuse masters are nobody's children (the stub detaches them), so they are re-parented to the
// container's PID 1; a PID 1 that never waits (`sleep infinity`, a shell running one command)
// keeps each as a zombie for the life of the pod. This face runs CMD as its child, passes the
// runtime's signals on to it, reaps every process that ends up its child and exits with CMD's
// code.
#include <string>
#include <vector>

namespace k8psh {

// Returns the exit code: CMD's own, 128+N when a signal N ended it, 126/127 when it cannot start.
int run_init(const std::vector<std::string> &command);

}  // namespace k8psh
