#pragma once
// The server face (k8pshd): stubs, then one listening process that serves each connection on
// its own thread (no fork per connection: that costs copy-on-write faults during kex).
#include <string>
#include <vector>

namespace k8psh {

// Returns the process exit code.
int run_server(const std::vector<std::string> &args, const char *argv0);

}  // namespace k8psh
