#include "self_path.h"

#include <climits>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace k8psh {

std::string self_path(const char *argv0) {
    char buffer[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buffer, sizeof buffer - 1);
    if (n > 0) {
        return std::string(buffer, static_cast<std::size_t>(n));
    }
    // A scratch container may have no /proc: fall back to how we were started.
    if (argv0 != nullptr && strchr(argv0, '/') != nullptr && realpath(argv0, buffer) != nullptr) {
        return buffer;
    }
    return "";
}

}  // namespace k8psh
