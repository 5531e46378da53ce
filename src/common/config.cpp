// The configuration outside the grammar (config_parser.cpp): reading the file, resolving the
// base directory, `${NAME}` expansion, lookups.
#include "config.h"

#include "exit_codes.h"
#include "log.h"
#include "sys.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <unistd.h>

namespace k8psh {
namespace {

// Upstream accepts these in a `${…}` name (it also allows Windows names like `ProgramFiles(x86)`).
bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ' ' ||
           c == '(' || c == ')' || c == '-' || c == '.';
}

// A stub parses its file where it is mapped (MappedFile). Should a write in place truncate the
// file meanwhile, the pages past its new end raise SIGBUS: the stub then says so and exits as
// for any unreadable configuration, instead of dying of the signal without a word.
const char *truncated_message = nullptr;
std::size_t truncated_length = 0;

extern "C" void on_truncated(int) {
    (void)!write(STDERR_FILENO, truncated_message, truncated_length);
    _exit(exit_code::kUsage);
}

class TruncationGuard {
public:
    explicit TruncationGuard(const std::string &path)
        : message_(std::string(program_invocation_short_name) + ": " + path +
                   ": cannot read: the file was truncated while it was read\n") {
        truncated_message = message_.data();
        truncated_length = message_.size();
        struct sigaction action {};
        action.sa_handler = on_truncated;
        sigemptyset(&action.sa_mask);
        sigaction(SIGBUS, &action, &previous_);
    }
    ~TruncationGuard() { sigaction(SIGBUS, &previous_, nullptr); }
    TruncationGuard(const TruncationGuard &) = delete;
    TruncationGuard &operator=(const TruncationGuard &) = delete;

private:
    std::string message_;
    struct sigaction previous_ {};
};

}  // namespace

std::string expand_variables(std::string_view text, const EnvLookup &lookup) {
    std::string result;
    size_t i = 0;
    for (;;) {
        const size_t dollar = text.find("${", i);
        if (dollar == std::string_view::npos) {
            result += text.substr(i);
            return result;
        }
        result += text.substr(i, dollar - i);
        size_t end = dollar + 2;
        while (end < text.size() && is_name_char(text[end])) {
            ++end;
        }
        const std::string name(text.substr(dollar + 2, end - dollar - 2));
        if (end < text.size() && text[end] == '}') {
            result += lookup(name).value_or("");
            i = end + 1;
        } else if (end + 1 < text.size() && text[end] == ':' && text[end + 1] == '-' &&
                   text.find('}', end + 2) != std::string_view::npos) {
            const size_t close = text.find('}', end + 2);
            const std::optional<std::string> value = lookup(name);
            result += value ? std::string_view(*value) : text.substr(end + 2, close - end - 2);
            i = close + 1;
        } else {
            result += text.substr(dollar, end - dollar);  // not a reference: kept as written
            i = end;
        }
    }
}

Config load_config(const std::string &path, std::string_view only_command) {
    // A stub maps the file: it reads it at every start, and a copy's fresh pages cost more than
    // the parse (10,000 commands: copied, 1.7 ms of CPU more than mapped; the parse, 0.15-0.3).
    // k8pshd and --check read it.
    Config config;
    MappedFile mapped;
    if (!only_command.empty() && mapped.map(path)) {
        const TruncationGuard guard(path);
        config = parse_config(mapped.text(), path, process_env(), only_command);
    } else {
        std::string text;
        if (!read_file(path, text)) {
            throw ConfigError(path, 0, 0, std::string("cannot read: ") + std::strerror(errno));
        }
        config = parse_config(text, path, process_env(), only_command);
    }

    // Relative to the config file's directory, like upstream. Symlinks are resolved (upstream
    // used realpath) so the base compares equal to a getcwd() below it.
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::path directory = fs::absolute(path, error).parent_path();
    fs::path base = directory / config.base_directory;  // an absolute value replaces directory
    fs::path resolved = fs::weakly_canonical(base, error);
    base = error ? base.lexically_normal() : resolved;
    std::string absolute = base.string();
    while (absolute.size() > 1 && absolute.back() == '/') {
        absolute.pop_back();
    }
    config.base_directory = absolute;
    // The key directory too is written relative to the file, not to whoever reads it.
    if (config.key_directory.has_value() && !config.key_directory->empty()) {
        config.key_directory = (directory / *config.key_directory).lexically_normal().string();
    }
    K8PSH_DEBUG_LOG("config", "{}: {} server(s), base directory {}", path, config.servers.size(), absolute);
    return config;
}

EnvLookup process_env() {
    return [](const std::string &name) -> std::optional<std::string> {
        const char *value = std::getenv(name.c_str());
        if (value == nullptr) {
            return std::nullopt;
        }
        return std::string(value);
    };
}

const Command *ServerSection::find_command(std::string_view name) const {
    const Command *found = nullptr;
    for (const Command &command : commands) {
        if (command.name == name) {
            found = &command;
        }
    }
    return found;
}

const Command *Config::find_command(std::string_view name, const ServerSection **section) const {
    const Command *found = nullptr;
    for (const ServerSection &server : servers) {
        if (const Command *command = server.find_command(name); command != nullptr) {
            found = command;
            if (section != nullptr) {
                *section = &server;
            }
        }
    }
    return found;
}

const ServerSection *Config::find_server(std::string_view name) const {
    for (const ServerSection &server : servers) {
        if (server.name == name) {
            return &server;
        }
    }
    return nullptr;
}

}  // namespace k8psh
