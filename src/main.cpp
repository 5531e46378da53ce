// One binary, four faces (README: the table at the top): chosen by the name it was started under.
//   k8psh    client (or --server / --install)
//   k8pshd   server
//   other    stub: exactly `k8psh -- NAME ARGS…`, no option parsing at all
#include "cli.h"
#include "client.h"
#include "config.h"
#include "exit_codes.h"
#include "init_reaper.h"
#include "install.h"
#include "key_directory.h"
#include "log.h"
#include "process_title.h"
#include "self_path.h"
#include "server.h"
#include "standard_fds.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace k8psh;

std::string base_name(const char *path) {
    const char *slash = std::strrchr(path, '/');
    return slash != nullptr ? slash + 1 : path;
}

// What run_remote needs to run command[0] with the rest as its arguments, as `config` has it;
// its `command` is null when `config` has no such command.
ClientRequest request_for(const Config &config, const std::vector<std::string> &command,
                          const std::optional<std::string> &keys_option, TtyMode tty, const char *argv0) {
    ClientRequest request;
    request.config = &config;
    request.command = config.find_command(command[0], &request.section);
    if (request.command != nullptr) {
        request.args.assign(command.begin() + 1, command.end());
        request.key_directory = resolve_key_directory(keys_option, config, argv0);
    }
    request.tty = tty;
    return request;
}

// A stub's name is the command, its every argument the command's.
std::vector<std::string> stub_command(const std::string &face, int argc, char **argv) {
    std::vector<std::string> command{face};
    command.insert(command.end(), argv + 1, argv + argc);
    return command;
}

int run_command(const std::optional<std::string> &config_option, const std::optional<std::string> &keys_option,
                const std::vector<std::string> &command, TtyMode tty, const char *argv0) {
    std::optional<Config> loaded = load_config_or_report(config_option, command[0]);
    if (!loaded) {
        return exit_code::kUsage;
    }
    K8PSH_DEBUG_LOG("client", "configuration loaded");
    ClientRequest request = request_for(*loaded, command, keys_option, tty, argv0);
    if (request.command == nullptr) {
        spdlog::error("unknown command '{}' (not in {})", command[0], loaded->path);
        return exit_code::kUnknownCommand;
    }
    return run_remote(request);
}

int client_main(const std::vector<std::string> &args, const char *argv0) {
    switch (client_face(args)) {
    case Face::Server: {
        log::init("k8pshd");
        return run_server(args, argv0);
    }
    case Face::Install: {
        InstallOptions options = parse_install(args);
        KeyDirectoryOptions keys;
        keys.regenerate = options.regenerate_keys;
        if (options.key_owner) {
            auto owner = parse_key_owner(*options.key_owner);
            if (!owner) {
                spdlog::error("--key-owner: expected UID[:GID] (numbers), got '{}'", *options.key_owner);
                return exit_code::kUsage;
            }
            keys.owner = owner->uid;
            keys.group = owner->gid;
        }
        try {
            install(self_path(argv0), options.path, keys);
        } catch (const std::exception &error) {
            spdlog::error("{}", error.what());
            return exit_code::kUsage;
        }
        return 0;
    }
    case Face::Init: return run_init(parse_init(args));
    case Face::Client: break;
    }
    ClientOptions options = parse_client(args);
    if (options.check) {
        std::optional<Config> config = load_config_or_report(options.config);
        if (!config) {
            return exit_code::kUsage;
        }
        for (const auto &warning : config->warnings) {
            spdlog::warn("{}", warning);  // only here and in k8pshd: stubs stay silent
        }
        return check_servers(*config, resolve_key_directory(options.keys, *config, argv0));
    }
    if (options.command.empty()) {
        spdlog::error("no command given (see --help)");
        return exit_code::kUsage;
    }
    TtyMode tty = options.force_tty ? TtyMode::Always : options.force_no_tty ? TtyMode::Never : TtyMode::Auto;
    return run_command(options.config, options.keys, options.command, tty, argv0);
}

// Static executables only: in a dynamic one (the sanitizer build) ld.so may run this before
// the shared libraries' own start-up.
#if defined(K8PSH_STATIC_BUILD)
// A stub's usual run, through its container's reuse master, before any static constructor runs:
// glibc calls .preinit_array entries first, then OpenSSL's cpuid probe (.init), then every
// constructor — libstdc++'s streams and locales, CLI11's validators, libssh's start-up — about
// 0.7 ms of a stub's ~3.7 ms on the machine README: Performance measures, and none of them is
// used on this path (nothing here touches iostreams, CLI11, libssh or OpenSSL; libsodium's hash
// works without sodium_init). Anything but a run the master served (a configuration error, no
// master yet, K8PSH_DEBUG) returns having run nothing and printed nothing, and main does it all
// again as it always did. An exception thrown here is caught: `-Wl,--eh-frame-hdr` (CMakeLists).
void stub_before_constructors(int argc, char **argv, char **) {
    if (argc < 1 || std::getenv("K8PSH_DEBUG") != nullptr) {
        return;
    }
    std::string face = base_name(argv[0]);
    if (face == "k8psh" || face == "k8pshd") {
        return;
    }
    fill_closed_standard_fds();
    std::optional<Config> config;
    ClientRequest request;
    try {
        config = load_config(resolve_config_path(std::nullopt), face);
        request = request_for(*config, stub_command(face, argc, argv), std::nullopt, TtyMode::Auto, argv[0]);
    } catch (...) {
        return;  // nothing ran: main reports whatever it was
    }
    if (request.command == nullptr) {
        return;
    }
    // Not in the try: past the hand-over, returning would run the command a second time.
    std::optional<RunOutcome> outcome = run_if_master_serves(request);
    if (!outcome.has_value()) {
        return;
    }
    if (!outcome->error.empty()) {
        log::init(face);
        spdlog::error("{}", outcome->error);
    }
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(outcome->code);
}

[[gnu::used, gnu::section(".preinit_array")]] void (*const k8psh_stub_preinit)(int, char **,
                                                                               char **) = stub_before_constructors;
#endif

}  // namespace

int main(int argc, char **argv) {
    fill_closed_standard_fds();
    remember_process_arguments(argc, argv);
    std::string face = base_name(argv[0]);
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (face == "k8pshd") {
            log::init("k8pshd");
            return run_server(args, argv[0]);
        }
        int code = 0;
        if (face == "k8psh") {
            log::init("k8psh");
            code = client_main(args, argv[0]);
        } else {
            log::init(face);
            code = run_command(std::nullopt, std::nullopt, stub_command(face, argc, argv), TtyMode::Auto, argv[0]);
        }
        // Everything is closed and the terminal restored by now: skip OpenSSL's and the other
        // static destructors (a quarter of a millisecond on every stub).
        std::fflush(stdout);
        std::fflush(stderr);
        _exit(code);
    } catch (const CliExit &exit) {
        return exit.code;
    }
}
