#pragma once
// `k8psh --install PATH`: copy this binary atomically and create the per-pod keys beside it.
#include "keys.h"

#include <string>

namespace k8psh {

// Copies `self` (the running binary's real path) to `destination` via a temporary file in the
// same directory and rename(2), mode 0755, creating parent directories; then ensures
// `<dirname(destination)>/keys`. Throws std::runtime_error with a one-line message.
void install(const std::string &self, const std::string &destination, const KeyDirectoryOptions &keys);

}  // namespace k8psh
