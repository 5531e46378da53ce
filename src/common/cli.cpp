#include "cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <iostream>

namespace k8psh {
namespace {

const char *const kVersion = "k8psh " K8PSH_VERSION;

// CLI11 wants argv in reverse order for the vector overload.
std::vector<std::string> reversed(std::vector<std::string> args) {
    return {args.rbegin(), args.rend()};
}

void run_parser(CLI::App &app, const std::vector<std::string> &args) {
    try {
        auto copy = reversed(args);
        app.parse(copy);
    } catch (const CLI::CallForHelp &e) {
        std::cout << app.help();
        throw CliExit{0};
    } catch (const CLI::CallForVersion &e) {
        std::cout << kVersion << "\n";
        throw CliExit{0};
    } catch (const CLI::ParseError &e) {
        std::cerr << app.get_name() << ": " << e.what() << " (see --help)\n";
        throw CliExit{2};
    }
}

bool is_option(const std::string &word) {
    return word.size() > 1 && word[0] == '-';
}

// Client options whose value is the next word (`-c FILE`): that word is not the command.
bool takes_value(const std::string &word) {
    return word == "-c" || word == "--config" || word == "--keys";
}

}  // namespace

Face client_face(const std::vector<std::string> &args) {
    // Upstream accepts its options in any order (`k8psh -c FILE --server -n NAME`): skip each
    // option's value while looking for the face.
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string &word = args[i];
        if (takes_value(word)) {
            ++i;
            continue;
        }
        if (word == "--") {
            break;
        }
        if (word == "-s" || word == "--server") {
            return Face::Server;
        }
        if (word == "--install" || word.rfind("--install=", 0) == 0) {
            return Face::Install;
        }
        if (word == "--init") {
            return Face::Init;
        }
        if (!is_option(word)) {
            break;  // the command: everything after it belongs to the remote program
        }
    }
    return Face::Client;
}

ClientOptions parse_client(const std::vector<std::string> &args) {
    ClientOptions options;
    CLI::App app{"Runs a configured command in the container that provides it.", "k8psh"};
    app.set_version_flag("-v,--version", kVersion);
    app.add_option("-c,--config", options.config, "Configuration file (else $K8PSH_CONFIG, else ./k8psh.conf)");
    app.add_option("--keys", options.keys,
                   "Key directory (else $K8PSH_KEYS, config keyDirectory, keys/ beside the binary)");
    app.add_flag("-t,--tty", options.force_tty, "Always request a terminal");
    app.add_flag("-T,--no-tty", options.force_no_tty, "Never request a terminal");
    app.add_flag("--check", options.check, "Probe every configured server and command, then exit");
    bool server = false;
    app.add_flag("-s,--server", server, "Run as the server (same as k8pshd)");
    std::string install;
    app.add_option("--install", install, "Install to PATH and create the pod's keys (default /k8psh/bin/k8pshd)");
    // No positional option: prefix_command() stops at the command word, so a later `-c` belongs
    // to the remote program, not to us.
    app.footer(
        "Usage: k8psh [OPTIONS] [--] COMMAND [ARGS...]\n"
        "Every word after the command goes to the remote program untouched.");
    app.prefix_command(true);
    run_parser(app, args);
    for (const auto &word : app.remaining()) {
        options.command.push_back(word);
    }
    bool after_dashes = !options.command.empty() && options.command[0] == "--";
    if (after_dashes) {
        options.command.erase(options.command.begin());
    }
    // prefix_command() hands an unknown option over as if it were the command; only `--`
    // may introduce a command that starts with a dash.
    if (!options.command.empty() && is_option(options.command[0]) && !after_dashes) {
        std::cerr << "k8psh: unknown option " << options.command[0] << " (see --help)\n";
        throw CliExit{2};
    }
    if (options.force_tty && options.force_no_tty) {
        std::cerr << "k8psh: -t and -T contradict each other\n";
        throw CliExit{2};
    }
    return options;
}

ServerOptions parse_server(const std::vector<std::string> &args) {
    ServerOptions options;
    CLI::App app{"Serves this container's configured commands to the pod's other containers.", "k8pshd"};
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.set_version_flag("-v,--version", kVersion);
    bool server = false;
    app.add_flag("-s,--server", server, "Accepted for `k8psh --server`");
    app.add_option("-c,--config", options.config, "Configuration file (else $K8PSH_CONFIG, else ./k8psh.conf)");
    app.add_option("-n,--name", options.name, "Server name (else $K8PSH_NAME, else the hostname)");
    app.add_option("-e,--executable-directory", options.executable_directory,
                   "Where stubs are written (default: the current directory, as upstream)");
    app.add_flag("-d,--disable-client-executables", options.disable_client_executables, "Write no stubs");
    app.add_flag("-k,--keep-client-executables", options.keep_client_executables, "Keep stubs at exit");
    app.add_flag("-l,--generate-local-executables", options.generate_local_executables,
                 "Also write stubs for this server's own commands");
    app.add_flag("-o,--overwrite-client-executables", options.overwrite_client_executables,
                 "Replace existing files with stubs");
    app.add_flag("-b,--background", options.background, "Detach once listening");
    app.add_option("-p,--pidfile", options.pidfile, "PID file (default /run/k8pshd.pid with -b)");
    app.add_option("-t,--timeout", options.timeout_ms,
                   "Exit this many milliseconds after starting, once running commands end (-1: never)");
    app.add_option("--idle-timeout", options.idle_timeout_ms,
                   "Exit after this many milliseconds without a command running (-1: never)");
    app.add_option("-m,--max-connections", options.max_connections,
                   "Exit after serving this many commands; later ones are refused (-1: no limit)");
    app.add_flag("-w,--no-wait", options.no_wait, "Do not wait for running commands at shutdown");
    app.add_flag("-i,--ignore-invalid-arguments", options.ignore_invalid_arguments, "Ignore unknown options");
    app.add_option("--keys", options.keys, "Key directory");
    app.add_option("--listen", options.listen, "Address to listen on (default 127.0.0.1)");
    // 0 would admit nobody: a limit is at least 1, or -1 for none.
    auto limit = CLI::Validator(
        [](std::string &value) {
            long n = 0;
            auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
            bool ok = error == std::errc() && end == value.data() + value.size() && (n >= 1 || n == -1);
            return ok ? std::string() : std::string("must be a number of at least 1, or -1 for no limit");
        },
        "N", "LIMIT");
    app.add_option("--max-startups", options.max_startups,
                   "Unauthenticated connections at once; when full, the oldest is cut (default 32, -1: no limit)")
        ->check(limit);
    app.add_option("--max-sessions", options.max_sessions, "Commands running at once; more wait (default -1: no limit)")
        ->check(limit);
    app.add_option("--login-grace-ms", options.login_grace_ms, "Time a connection has to authenticate");
    app.add_option("--hangup-grace-ms", options.hangup_grace_ms, "SIGHUP to SIGKILL for vanished clients");
    // -i must be known before parsing decides what an unknown option means.
    for (const auto &word : args) {
        if (word == "-i" || word == "--ignore-invalid-arguments") {
            app.allow_extras();
        }
    }
    run_parser(app, args);
    return options;
}

std::vector<std::string> parse_init(const std::vector<std::string> &args) {
    CLI::App app{
        "Runs COMMAND as a child and reaps every process that ends up ours, like tini: the entry of a "
        "client container, whose reuse masters would otherwise stay zombies of its PID 1.",
        "k8psh --init"};
    app.set_version_flag("-v,--version", kVersion);
    bool init = false;
    app.add_flag("--init", init, "Run COMMAND under a reaping parent");
    app.footer(
        "Usage: k8psh --init [--] COMMAND [ARGS...]\n"
        "Signals are passed on to COMMAND; the exit code is COMMAND's (128+N for signal N).");
    app.prefix_command(true);
    run_parser(app, args);
    std::vector<std::string> command = app.remaining();
    if (!command.empty() && command[0] == "--") {
        command.erase(command.begin());
    }
    if (command.empty()) {
        std::cerr << "k8psh --init: no command given (see --help)\n";
        throw CliExit{2};
    }
    return command;
}

namespace {

std::optional<unsigned long> parse_id(std::string_view text) {
    unsigned long value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    // from_chars takes no sign, space or prefix; the whole text must be the number.
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value >= 0xffffffffUL) {
        return std::nullopt;
    }
    return value;
}

}  // namespace

std::optional<KeyOwner> parse_key_owner(std::string_view text) {
    std::size_t colon = text.find(':');
    auto uid = parse_id(text.substr(0, colon));
    auto gid = colon == std::string_view::npos ? uid : parse_id(text.substr(colon + 1));
    if (!uid || !gid) {
        return std::nullopt;
    }
    return KeyOwner{static_cast<uid_t>(*uid), static_cast<gid_t>(*gid)};
}

InstallOptions parse_install(const std::vector<std::string> &args) {
    InstallOptions options;
    CLI::App app{"Installs k8psh into a shared volume and creates the pod's keys.", "k8psh --install"};
    app.set_version_flag("-v,--version", kVersion);
    std::vector<std::string> destination;
    app.add_option("--install", destination, "Destination of the binary (default /k8psh/bin/k8pshd)")->expected(0, 1);
    app.add_flag("--regenerate-keys", options.regenerate_keys, "Replace existing keys");
    // Accepted as upstream does (`k8psh -c FILE --install PATH`): installing reads no configuration.
    std::string unused_config;
    app.add_option("-c,--config", unused_config, "Accepted and ignored: installing reads no configuration");
    app.add_option("--key-owner", options.key_owner, "UID[:GID] to own the keys");
    run_parser(app, args);
    if (!destination.empty() && !destination.front().empty()) {
        options.path = destination.front();
    }
    return options;
}

}  // namespace k8psh
