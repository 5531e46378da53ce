// Fuzzes the configuration grammar (README: Configuration) and, through every parsed command, the environment
// rules. Properties, not just "no crash":
// - parse_config returns a Config or throws ConfigError located at "FILE:LINE:COL: " inside the text;
// - a parsed Config keeps its invariants (named sections with ports in range, unique names,
//   commands with an argv) and, written back out quoted, parses to the same Config;
// - build_command_env passes only configured names, each once in rule order, honours the
//   client only for client rules (its values never expanded) and ignores names it may not send.
#include "config.h"
#include "env_rules.h"
#include "fuzz_check.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace {

using k8psh::Command;
using k8psh::Config;
using k8psh::EnvEntry;
using k8psh::EnvRule;

const std::string kPath = "fuzz.conf";

const std::map<std::string, std::string> kServerEnv = {
    {"HOME", "/home/fuzz"},
    {"EMPTY", ""},
    {"WORKSPACE", "/ws"},
    {"PATH", "/usr/bin:/bin"},
    {"LD_LIBRARY_PATH", "/lib:${HOME}"},  // not a template: a server value is never expanded
};

std::optional<std::string> server_env(const std::string &name) {
    if (auto it = kServerEnv.find(name); it != kServerEnv.end()) {
        return it->second;
    }
    return std::nullopt;
}

void check_error(std::string_view text, const k8psh::ConfigError &error) {
    FUZZ_CHECK(error.line > 0 && error.column > 0);
    const std::string prefix = kPath + ":" + std::to_string(error.line) + ":" + std::to_string(error.column) + ": ";
    const std::string what = error.what();
    FUZZ_CHECK(what.rfind(prefix, 0) == 0);
    FUZZ_CHECK(what.size() > prefix.size());
    // The location is inside the text: an existing line, at most one column past its end.
    size_t line_start = 0;
    for (int line = 1; line < error.line; ++line) {
        line_start = text.find('\n', line_start);
        FUZZ_CHECK(line_start != std::string_view::npos);
        ++line_start;
    }
    const size_t line_end = std::min(text.find('\n', line_start), text.size());
    FUZZ_CHECK(static_cast<size_t>(error.column) <= line_end - line_start + 1);
}

// A word in config syntax that reads back as exactly `word`: single-quoted (no expansion, '' for
// a quote), except NUL bytes, which config text cannot hold and are written as "\0" pieces.
std::string quoted(std::string_view word) {
    std::string out = "'";
    for (const char c : word) {
        if (c == '\'') {
            out += "''";
        } else if (c == '\0') {
            out += "'\"\\0\"'";
        } else {
            out += c;
        }
    }
    return out + "'";
}

std::string entry_word(const EnvEntry &entry) {
    const char *prefix = entry.rule == EnvRule::Server ? "=" : entry.rule == EnvRule::ClientDefaultOrServer ? "?" : "";
    return quoted(prefix + entry.name + "=" + entry.value);
}

// The Config as text: explicit ports, section-wide entries moved onto each command.
std::string write_config(const Config &config) {
    std::string text = "baseDirectory = " + quoted(config.base_directory) + "\n";
    text += "connectTimeoutMs = " + std::to_string(config.connect_timeout_ms) + "\n";
    if (config.key_directory) {
        text += "keyDirectory = " + quoted(*config.key_directory) + "\n";
    }
    for (const auto &section : config.servers) {
        text += "[ " + quoted(section.name) + ":" + std::to_string(section.port) + " ]";
        for (const auto &option : section.options) {
            text += " " + quoted(option);
        }
        text += "\n";
        for (const auto &command : section.commands) {
            text += quoted(command.name);
            for (const auto &entry : command.env) {
                text += " " + entry_word(entry);
            }
            // The default argv is left implicit: written out, a NAME with `=` would read as an entry.
            if (command.argv != std::vector<std::string>{command.name}) {
                for (const auto &arg : command.argv) {
                    text += " " + quoted(arg);
                }
            }
            text += "\n";
        }
    }
    return text;
}

bool same_entries(const std::vector<EnvEntry> &a, const std::vector<EnvEntry> &b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const EnvEntry &x, const EnvEntry &y) {
        return x.rule == y.rule && x.name == y.name && x.value == y.value;
    });
}

bool same_config(const Config &a, const Config &b) {
    if (a.base_directory != b.base_directory || a.connect_timeout_ms != b.connect_timeout_ms ||
        a.key_directory != b.key_directory || a.servers.size() != b.servers.size()) {
        return false;
    }
    for (size_t i = 0; i < a.servers.size(); ++i) {
        const auto &x = a.servers[i];
        const auto &y = b.servers[i];
        if (x.name != y.name || x.port != y.port || x.options != y.options || x.commands.size() != y.commands.size()) {
            return false;
        }
        for (size_t j = 0; j < x.commands.size(); ++j) {
            const Command &c = x.commands[j];
            const Command &d = y.commands[j];
            if (c.name != d.name || c.argv != d.argv || !same_entries(c.env, d.env)) {
                return false;
            }
        }
    }
    return true;
}

void check_invariants(const Config &config) {
    FUZZ_CHECK(config.path == kPath);
    std::set<std::string> servers;
    // A command listed more than once is accepted as upstream does: the later definition wins,
    // in its section, and the parser warns.
    std::map<std::string, std::pair<const Command *, const k8psh::ServerSection *>> last;
    bool repeated = false;
    for (const auto &section : config.servers) {
        FUZZ_CHECK(!section.name.empty() && section.name.find(':') == std::string::npos);
        FUZZ_CHECK(section.port >= 1 && section.port <= 65535);
        FUZZ_CHECK(!section.commands.empty());
        FUZZ_CHECK(servers.insert(section.name).second);
        FUZZ_CHECK(config.find_server(section.name) == &section);
        for (const auto &command : section.commands) {
            FUZZ_CHECK(!command.name.empty() && !command.argv.empty() && command.line > 0);
            repeated = repeated || last.count(command.name) != 0;
            last[command.name] = {&command, &section};
            for (const auto &entry : command.env) {
                FUZZ_CHECK(!entry.name.empty() && entry.name.find('=') == std::string::npos);
            }
        }
    }
    for (const auto &[name, definition] : last) {
        const k8psh::ServerSection *found_section = nullptr;
        FUZZ_CHECK(config.find_command(name, &found_section) == definition.first);
        FUZZ_CHECK(found_section == definition.second);
    }
    FUZZ_CHECK(!repeated || !config.warnings.empty());
}

void check_env(const Command &command) {
    // client_env_names: every name some client rule (not =NAME=) names, each once.
    const std::vector<std::string> client_names = k8psh::client_env_names(command);
    const std::set<std::string> listed(client_names.begin(), client_names.end());
    FUZZ_CHECK(listed.size() == client_names.size());
    std::set<std::string> client_rule_names;
    std::map<std::string, const EnvEntry *> last;  // a later entry for a name decides its value
    std::vector<std::string> order;                // each configured name at its first position
    for (const auto &entry : command.env) {
        if (entry.rule != EnvRule::Server) {
            client_rule_names.insert(entry.name);
        }
        if (!last.count(entry.name)) {
            order.push_back(entry.name);
        }
        last[entry.name] = &entry;
    }
    FUZZ_CHECK(listed == client_rule_names);

    // The client sends about half of what it may, each value looking like a reference.
    k8psh::EnvMap client;
    for (const auto &name : client_names) {
        if (std::hash<std::string>{}(name) % 2 == 0) {
            client[name] = "${" + name + "}";
        }
    }
    const k8psh::EnvList env = k8psh::build_command_env(command, client, server_env);

    size_t next = 0;  // output names are configured names, each once, in first-position order
    for (const auto &[name, value] : env) {
        while (next < order.size() && order[next] != name) {
            ++next;
        }
        FUZZ_CHECK(next < order.size());
        ++next;
        const EnvEntry &decides = *last[name];
        if (decides.rule != EnvRule::Server && client.count(name)) {
            FUZZ_CHECK(value == client[name]);  // sent values are used as sent, never expanded
        }
        if (decides.rule == EnvRule::Server && decides.value.empty()) {
            FUZZ_CHECK(server_env(name) == value);
        }
    }
    // Only an empty =NAME= or ?NAME= may leave a name unset (nothing to inherit).
    for (const auto &name : order) {
        const EnvEntry &decides = *last[name];
        const bool present = std::any_of(env.begin(), env.end(), [&](const auto &pair) { return pair.first == name; });
        const bool inherits =
            decides.rule == EnvRule::Server || (decides.rule == EnvRule::ClientDefaultOrServer && !client.count(name));
        FUZZ_CHECK(present || (inherits && decides.value.empty()));
    }

    // Whatever the client sends beyond client_env_names changes nothing.
    k8psh::EnvMap smuggled = client;
    auto smuggle = [&](const std::string &name) {
        if (!listed.count(name)) {
            smuggled.emplace(name, "smuggled");
        }
    };
    for (const char *name : {"LD_PRELOAD", "PATH", "HOME"}) {
        smuggle(name);
    }
    for (const auto &entry : command.env) {
        smuggle(entry.name);
    }
    FUZZ_CHECK(k8psh::build_command_env(command, smuggled, server_env) == env);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    Config config;
    try {
        config = k8psh::parse_config(text, kPath, server_env);
    } catch (const k8psh::ConfigError &error) {
        check_error(text, error);
        return 0;
    }
    check_invariants(config);

    Config again;
    const std::string written = write_config(config);
    try {
        again = k8psh::parse_config(written, kPath, server_env);
    } catch (const k8psh::ConfigError &error) {
        std::fprintf(stderr, "rewritten config:\n%s\nerror: %s\n", written.c_str(), error.what());
        FUZZ_CHECK(!"a parsed config, written back out, does not parse");
    }
    FUZZ_CHECK(same_config(config, again));

    for (const auto &section : config.servers) {
        for (const auto &command : section.commands) {
            check_env(command);
        }
    }
    return 0;
}
