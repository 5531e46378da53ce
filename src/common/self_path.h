#pragma once
#include <string>

namespace k8psh {

// The real path of the running binary (/proc/self/exe, else argv[0] resolved), "" if unknown.
// Stubs point at it and the default key directory sits beside it.
std::string self_path(const char *argv0);

// dirname of a path ("." when it has no slash).
std::string directory_of(const std::string &path);

}  // namespace k8psh
