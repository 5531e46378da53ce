#include "key_directory.h"

#include "self_path.h"

#include <cstdlib>

namespace k8psh {

std::string resolve_key_directory(const std::optional<std::string> &option, const Config &config,
                                  const char *argv0) {
    if (option) {
        return *option;
    }
    if (const char *env = std::getenv("K8PSH_KEYS"); env != nullptr && *env != '\0') {
        return env;
    }
    if (config.key_directory) {
        return *config.key_directory;
    }
    return directory_of(self_path(argv0)) + "/keys";
}

std::string resolve_config_path(const std::optional<std::string> &option) {
    if (option) {
        return *option;
    }
    if (const char *env = std::getenv("K8PSH_CONFIG"); env != nullptr && *env != '\0') {
        return env;
    }
    return "k8psh.conf";
}

}  // namespace k8psh
