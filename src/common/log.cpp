#include "log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace k8psh::log {
namespace {

std::vector<std::string> g_components;
bool g_all = false;

std::string lower(std::string_view text) {
    std::string out(text);
    for (char &c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

// Upstream's K8PSH_DEBUG names its source files; each turns on the nearest components here,
// so a migrating team's `K8PSH_DEBUG=Process,Main` still shows something useful.
void add_component(std::vector<std::string> &components, const std::string &name) {
    static const struct {
        const char *upstream;
        const char *ours[3];
    } kUpstreamNames[] = {
        {"main", {"client", "server", nullptr}},         {"k8psh", {"client", "server", nullptr}},
        {"process", {"client", "server", nullptr}},      {"socket", {"client", "server", "reuse"}},
        {"configuration", {"config", nullptr, nullptr}}, {"utilities", {"config", nullptr, nullptr}},
    };
    components.push_back(name);
    for (const auto &entry : kUpstreamNames) {
        if (name == entry.upstream) {
            for (const char *ours : entry.ours) {
                if (ours != nullptr) {
                    components.emplace_back(ours);
                }
            }
        }
    }
}

}  // namespace

void init(std::string_view face) {
    spdlog::drop("k8psh");  // `k8psh --server` initialises twice: client face, then server
    // _mt: the server's session threads and the reuse master's handlers log at the same time.
    auto logger = spdlog::stderr_logger_mt("k8psh");
    logger->set_pattern(std::string(face) + ": %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::info);

    g_components.clear();
    g_all = false;
    const char *value = std::getenv("K8PSH_DEBUG");
    if (value == nullptr) {
        return;
    }
    std::string item;
    for (const char *p = value;; ++p) {
        if (*p == ',' || *p == ';' || *p == '\0') {
            if (!item.empty()) {
                std::string name = lower(item);
                if (name == "all") {
                    g_all = true;
                }
                add_component(g_components, name);
            }
            item.clear();
            if (*p == '\0') {
                break;
            }
        } else if (*p != ' ') {
            item += *p;
        }
    }
    if (!g_components.empty()) {
        spdlog::set_level(spdlog::level::debug);
        // Debug output gets timestamps: ordering across client and server matters there.
        logger->set_pattern("%H:%M:%S.%f " + std::string(face) + "[%P]: %v");
    }
}

bool debug_enabled(std::string_view component) {
    if (g_all) {
        return true;
    }
    for (const auto &name : g_components) {
        if (name == lower(component)) {
            return true;
        }
    }
    return false;
}

}  // namespace k8psh::log
