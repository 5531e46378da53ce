#pragma once
// Where the pod's keys are (README: Where things are found): --keys, else $K8PSH_KEYS, else the config's
// keyDirectory, else keys/ beside the real path of the running binary.
#include "config.h"

#include <optional>
#include <string>

namespace k8psh {

std::string resolve_key_directory(const std::optional<std::string> &option, const Config &config, const char *argv0);

// -c, else $K8PSH_CONFIG, else ./k8psh.conf.
std::string resolve_config_path(const std::optional<std::string> &option);

}  // namespace k8psh
