#pragma once
// The configuration: upstream k8psh's grammar, parsed without I/O into a Config.
// Grammar and semantics: README, Configuration.
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace k8psh {

// One environment rule of a server section or a command line.
enum class EnvRule {
    ClientOrDefault,        // NAME=default   : the client's value, else the default
    ClientDefaultOrServer,  // ?NAME=default  : the client's value, else the default, else the server's own
    Server,                 // =NAME=value    : always the server's (its own value when empty)
};

// A value as written. Parts outside single quotes were expanded at load time; single-quoted
// parts are kept with their `${NAME}` references, expanded per request (see env_rules.h).
struct EnvEntry {
    EnvRule rule = EnvRule::ClientOrDefault;
    std::string name;
    std::string value;
};

struct Command {
    std::string name;               // stub name and lookup key
    std::vector<EnvEntry> env;      // section-wide entries first, then the command's own
    std::vector<std::string> argv;  // executable and configured args (never empty: default {name})
    int line = 0;                   // where it was defined, for messages
};

struct ServerSection {
    std::string name;
    int port = 0;
    std::vector<std::string> options;  // server options written on the section line, e.g. "--timeout=100"
    std::vector<Command> commands;

    // The definition this server runs: the later one when a name is listed twice.
    const Command *find_command(std::string_view name) const;
};

struct Config {
    std::string path;                          // the file it came from (as given)
    std::string base_directory;                // absolute after load_config; as written (or empty) after parse_config
    long connect_timeout_ms = 30000;           // negative: retry forever
    long connection_reuse_ms = 30000;          // idle lifetime of a reuse master (reuse_master.h); <= 0: none
    std::optional<std::string> key_directory;  // after load_config: relative to the file's directory
    std::vector<ServerSection> servers;        // sections without commands are dropped
    std::vector<std::string> warnings;  // "FILE:LINE: …", e.g. a command defined twice (k8pshd and --check print them)

    // The command and the section that exposes it, or nullptr. A name listed twice resolves to
    // its later definition, as upstream's client does.
    const Command *find_command(std::string_view name, const ServerSection **section = nullptr) const;
    const ServerSection *find_server(std::string_view name) const;
};

// A located error; what() is "FILE:LINE:COL: message" (or "FILE: message" when there is no location).
class ConfigError : public std::runtime_error {
public:
    ConfigError(const std::string &file, int line, int column, const std::string &message);
    int line;
    int column;
};

// Looks up an environment variable at load time; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string &)>;

// Expands `${NAME}` and `${NAME:-default}` (`:-` applies when NAME is unset; an unset NAME
// without a default gives ""). Anything else, e.g. an unterminated `${`, stays literal.
// Shared by load-time expansion here and per-request expansion (env_rules.h).
std::string expand_variables(std::string_view text, const EnvLookup &lookup);

// Parses configuration text; pure (no I/O). `path` only names the file in errors.
// Throws ConfigError. With `only_command`, the lines of other commands are skipped without
// being decoded (what a stub needs: its command and server; settings and section lines are
// still read and checked, and so is the whole file by k8pshd and --check): sections without
// that command are dropped and warnings are incomplete.
Config parse_config(std::string_view text, const std::string &path, const EnvLookup &env,
                    std::string_view only_command = {});

// Reads and parses a file, then makes base_directory absolute and a relative key_directory
// relative to the config file's directory. Throws ConfigError ("FILE: cannot read: reason") for missing/unreadable
// files. `only_command` as for parse_config.
Config load_config(const std::string &path, std::string_view only_command = {});

// The real process environment as an EnvLookup.
EnvLookup process_env();

}  // namespace k8psh
