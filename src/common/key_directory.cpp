#include "key_directory.h"

#include "self_path.h"
#include "log.h"
#include "sys.h"

#include <cstdlib>
#include <filesystem>

namespace k8psh {
namespace {

// Made absolute once, here: a reuse master started from this process works from "/", and
// two stubs naming the same keys from different directories must agree on them.
std::string absolute(const std::string &path) {
    std::error_code error;
    std::string result = std::filesystem::absolute(path, error).lexically_normal().string();
    if (error) {
        return path;
    }
    while (result.size() > 1 && result.back() == '/') {
        result.pop_back();
    }
    return result;
}

}  // namespace

std::string resolve_key_directory(const std::optional<std::string> &option, const Config &config, const char *argv0) {
    if (option) {
        return absolute(*option);
    }
    if (const char *env = std::getenv("K8PSH_KEYS"); env != nullptr && *env != '\0') {
        return absolute(env);
    }
    if (config.key_directory) {
        return absolute(*config.key_directory);  // load_config made it relative to its file already
    }
    return absolute(parent_directory(self_path(argv0)) + "/keys");
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

std::optional<Config> load_config_or_report(const std::optional<std::string> &option, std::string_view only_command) {
    try {
        return load_config(resolve_config_path(option), only_command);
    } catch (const ConfigError &error) {
        spdlog::error("{}", error.what());
        return std::nullopt;
    }
}

}  // namespace k8psh
