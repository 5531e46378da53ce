#pragma once
#include <string>

namespace k8psh {

// The real path of the running binary (/proc/self/exe, else argv[0] resolved), "" if unknown.
// Stubs point at it and the default key directory sits beside it.
std::string self_path(const char *argv0);

}  // namespace k8psh
