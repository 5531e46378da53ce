// The three environment rules (README: Configuration), as upstream's server applied them.
#include "env_rules.h"

#include <algorithm>
#include <optional>

namespace k8psh {

std::vector<std::string> client_env_names(const Command &command) {
    std::vector<std::string> names;
    for (const EnvEntry &entry : command.env) {
        if (entry.rule == EnvRule::Server) {
            continue;
        }
        if (std::find(names.begin(), names.end(), entry.name) == names.end()) {
            names.push_back(entry.name);
        }
    }
    return names;
}

// Entries are applied in list order (section-wide first) into one table. A template is
// expanded against that table as built so far, falling back to the server's own environment;
// the client's values reach a template only through an earlier client rule for the same name.
// That is upstream's semantic: its example `?LD_LIBRARY_PATH= =LD_LIBRARY_PATH='${LD_LIBRARY_PATH}':.`
// first takes the client's value (else the server's), then appends `:.` to it, while a lone
// `=LD_LIBRARY_PATH='${LD_LIBRARY_PATH}':.` appends to the server's. A later entry for a name
// replaces its value but not its position; a name left without a value is not passed at all.
EnvList build_command_env(const Command &command, const EnvMap &client, const EnvLookup &server) {
    std::map<std::string, std::optional<std::string>> built;
    const EnvLookup lookup = [&](const std::string &name) -> std::optional<std::string> {
        if (auto it = built.find(name); it != built.end() && it->second) {
            return it->second;
        }
        return server(name);
    };

    for (const EnvEntry &entry : command.env) {
        std::optional<std::string> value;
        if (entry.rule == EnvRule::Server) {
            value = entry.value.empty() ? server(entry.name) : expand_variables(entry.value, lookup);
        } else if (auto sent = client.find(entry.name); sent != client.end()) {
            value = sent->second;  // the client's value is used as sent, never expanded
        } else if (entry.value.empty() && entry.rule == EnvRule::ClientDefaultOrServer) {
            value = lookup(entry.name);
        } else {
            value = expand_variables(entry.value, lookup);  // NAME= with no default: set but empty
        }
        built[entry.name] = std::move(value);
    }

    EnvList env;
    for (const EnvEntry &entry : command.env) {
        if (auto it = built.find(entry.name); it != built.end()) {
            if (it->second) {
                env.emplace_back(entry.name, *it->second);
            }
            built.erase(it);  // each name once, at its first position
        }
    }
    return env;
}

}  // namespace k8psh
