#pragma once
// Logging: spdlog to stderr. Quiet by default (warnings and errors only, plus the
// server's one info line per session); K8PSH_DEBUG=All or a list of component
// names ("server,client") opens debug detail for those components.
#include <spdlog/spdlog.h>

#include <string_view>

namespace k8psh::log {

// Reads K8PSH_DEBUG and sets up the stderr sink; `face` prefixes every line.
void init(std::string_view face);

// True when K8PSH_DEBUG names this component (or All).
bool debug_enabled(std::string_view component);

}  // namespace k8psh::log

// Debug lines cost nothing unless their component is enabled. Logged at debug level, which
// init() opens only when K8PSH_DEBUG names a component.
#define K8PSH_DEBUG_LOG(component, ...)                    \
    do {                                                   \
        if (::k8psh::log::debug_enabled(component)) {      \
            spdlog::debug("[" component "] " __VA_ARGS__); \
        }                                                  \
    } while (0)
