#pragma once
// Where the pod's keys are (README: Where things are found): --keys, else $K8PSH_KEYS, else the config's
// keyDirectory, else keys/ beside the real path of the running binary.
#include "config.h"

#include <optional>
#include <string>
#include <string_view>

namespace k8psh {

std::string resolve_key_directory(const std::optional<std::string> &option, const Config &config, const char *argv0);

// -c, else $K8PSH_CONFIG, else ./k8psh.conf.
std::string resolve_config_path(const std::optional<std::string> &option);

// load_config of the file resolve_config_path names, or nullopt after the failure's one located
// line on stderr (every face then exits 2). `only_command` as for load_config.
std::optional<Config> load_config_or_report(const std::optional<std::string> &option,
                                            std::string_view only_command = {});

}  // namespace k8psh
