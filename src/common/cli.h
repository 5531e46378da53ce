#pragma once
// Command lines of the four faces (README: the table at the top), parsed with CLI11. Parsing only: no I/O beyond
// printing --help/--version, which CLI11 reports as a CliExit with the code to return.
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace k8psh {

// Thrown when parsing ends the program: --help, --version (code 0) or a usage error (code 2,
// message already printed).
struct CliExit {
    int code;
};

struct ClientOptions {
    std::optional<std::string> config;
    std::optional<std::string> keys;
    bool force_tty = false;
    bool force_no_tty = false;
    bool check = false;
    std::vector<std::string> command;  // name then arguments, untouched
};

struct ServerOptions {
    std::optional<std::string> config;
    std::optional<std::string> name;
    std::optional<std::string> executable_directory;
    std::optional<std::string> keys;
    std::optional<std::string> pidfile;
    std::string listen = "127.0.0.1";
    bool disable_client_executables = false;
    bool keep_client_executables = false;
    bool generate_local_executables = false;
    bool overwrite_client_executables = false;
    bool background = false;
    bool no_wait = false;
    bool ignore_invalid_arguments = false;
    long timeout_ms = -1;       // -t: exit this long after start (upstream's meaning)
    long idle_timeout_ms = -1;  // --idle-timeout: exit this long after the last command ended
    long max_connections = -1;  // -m: exit after this many commands (upstream counted connections)
    long max_startups = 32;     // unauthenticated connections at once; the oldest is cut beyond
    long max_sessions = -1;     // commands running at once; more wait (-1: no limit)
    int login_grace_ms = 10000;
    int hangup_grace_ms = 5000;
};

struct InstallOptions {
    std::string path = "/k8psh/bin/k8pshd";
    bool regenerate_keys = false;
    std::optional<std::string> key_owner;  // "UID[:GID]"
};

enum class Face { Client, Server, Install, Init };

// Decides between client, server (-s/--server before the command), install (--install) and the
// reaping entry (--init).
Face client_face(const std::vector<std::string> &args);

ClientOptions parse_client(const std::vector<std::string> &args);
// Section options from the config come first, command-line ones after (the later wins).
ServerOptions parse_server(const std::vector<std::string> &args);
InstallOptions parse_install(const std::vector<std::string> &args);
// `--init [--] CMD [ARGS…]`: the command to run under the reaper, untouched.
std::vector<std::string> parse_init(const std::vector<std::string> &args);

struct KeyOwner {
    uid_t uid;
    gid_t gid;
};

// --key-owner's "UID" or "UID:GID" (GID defaults to UID): decimal numbers and nothing else.
// nullopt for anything more or less, and for -1 / 4294967295, which chown reads as "leave
// unchanged" (the keys would silently stay root's).
std::optional<KeyOwner> parse_key_owner(std::string_view text);

}  // namespace k8psh
