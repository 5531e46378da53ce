#include "server.h"

#include "atomic_file.h"
#include "cli.h"
#include "config.h"
#include "connection_limits.h"
#include "crypto_init.h"
#include "exit_codes.h"
#include "key_directory.h"
#include "keys.h"
#include "log.h"
#include "process.h"
#include "self_path.h"
#include "server_session.h"
#include "ssh_owners.h"
#include "stubs.h"
#include "sys.h"

#include <libssh/libssh.h>
#include <libssh/server.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <malloc.h>
#include <memory>
#include <poll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace k8psh {
namespace {

// Writes the pid file atomically, replacing a stale one. The directory may be writable by others
// (an emptyDir): AtomicFile's temporary is created exclusively under an unpredictable name, so a
// planted symlink can never redirect the write, and the rename replaces a link, never its target.
bool write_pidfile(const std::string &path) {
    try {
        AtomicFile file(path, 0644);
        file.write(std::to_string(getpid()) + "\n");
        file.commit();
        return true;
    } catch (const FileError &error) {
        spdlog::error("pid file {}", error.what());
        return false;
    }
}

std::string host_name() {
    char buffer[256] = {0};
    if (gethostname(buffer, sizeof buffer - 1) != 0) {
        return "";
    }
    return buffer;
}

// Everything the listening loop needs, released in one place.
struct Listener {
    ssh_bind bind = nullptr;
    ssh_key host_key = nullptr;
    ~Listener() {
        if (bind != nullptr) {
            ssh_bind_free(bind);
        }
        if (host_key != nullptr) {
            ssh_key_free(host_key);
        }
    }
};

// Reads the pod's keys: the host key to present and the one client key to accept.
// Returns an error message, or "" when both are loaded.
std::string load_keys(const std::string &directory, Listener &listener, ServerContext &context) {
    std::string host = directory + "/" + kHostKey;
    std::string client = directory + "/" + kClientKey + ".pub";
    try {
        std::string warning = check_private_key_file(host);
        if (!warning.empty()) {
            spdlog::warn("{}", warning);
        }
    } catch (const KeyError &error) {
        return error.what();
    }
    if (ssh_pki_import_privkey_file(host.c_str(), nullptr, nullptr, nullptr, &listener.host_key) != SSH_OK) {
        return host + ": not a valid private key";
    }
    ssh_key client_key = nullptr;
    if (ssh_pki_import_pubkey_file(client.c_str(), &client_key) != SSH_OK) {
        return client + ": missing or not a valid public key";
    }
    char *base64 = nullptr;
    ssh_pki_export_pubkey_base64(client_key, &base64);
    ssh_key_free(client_key);
    if (base64 == nullptr) {
        return client + ": cannot encode key";
    }
    context.client_key_blob.assign(base64, base64 + strlen(base64));
    ssh_string_free_char(base64);
    return "";
}

class Server {
public:
    Server(const ServerOptions &options, const Config &config, const ServerSection &section)
        : options_(options), config_(config), section_(section) {}
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    int run(const std::string &key_directory, const std::optional<std::string> &pidfile);

private:
    int open_listener(const std::string &key_directory);
    bool open_internal_fds();
    void accept_one();
    void start_session_thread(ssh_session session, std::uint64_t ticket);
    // Drains the signalfd: reaps orphans on SIGCHLD; true when asked to stop.
    bool handle_signals();
    void shut_down();

    const ServerOptions &options_;
    const Config &config_;
    const ServerSection &section_;
    Listener listener_;
    ServerContext context_;
    std::optional<StartupSlots> startups_;
    std::optional<CommandSlots> command_slots_;
    std::atomic<long> active_{0};   // accepted connections
    std::atomic<int> commands_{0};  // of them, those that requested a command (ServerContext)
    std::atomic<long> started_{0};  // commands started, for -m
    std::atomic<Clock::rep> last_command_end_{Clock::now().time_since_epoch().count()};
    // Declared last so they close first, before the slots and the context that name them.
    UniqueFd shutdown_read_;  // the sessions' shutdown_fd: readable once shut_down writes
    UniqueFd shutdown_write_;
    UniqueFd ended_fd_;  // eventfd: a session thread finished
    UniqueFd signal_fd_;
};

int Server::open_listener(const std::string &key_directory) {
    std::string error = load_keys(key_directory, listener_, context_);
    if (!error.empty()) {
        spdlog::error("{}", error);
        return exit_code::kUsage;
    }
    listener_.bind = ssh_bind_new();
    bool no = false;
    // libssh would otherwise read /etc/ssh/libssh_server_config of whatever image we run in.
    ssh_bind_options_set(listener_.bind, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no);
    ssh_bind_options_set(listener_.bind, SSH_BIND_OPTIONS_BINDADDR, options_.listen.c_str());
    ssh_bind_options_set(listener_.bind, SSH_BIND_OPTIONS_BANNER, "k8psh_" K8PSH_VERSION);
    unsigned int port = static_cast<unsigned int>(section_.port);
    ssh_bind_options_set(listener_.bind, SSH_BIND_OPTIONS_BINDPORT, &port);
    if (ssh_bind_options_set(listener_.bind, SSH_BIND_OPTIONS_IMPORT_KEY, listener_.host_key) != SSH_OK) {
        spdlog::error("cannot use host key: {}", ssh_get_error(listener_.bind));
        return exit_code::kUsage;
    }
    listener_.host_key = nullptr;  // the bind owns it now
    if (ssh_bind_listen(listener_.bind) != SSH_OK) {
        spdlog::error("cannot listen on {}:{}: {}", options_.listen, section_.port, ssh_get_error(listener_.bind));
        return exit_code::kConnection;
    }
    // libssh listens with a backlog of 10: a burst of stubs (make -j64) would overflow it and
    // wait for SYN retransmits (1 s). Widen it.
    listen(ssh_bind_get_fd(listener_.bind), SOMAXCONN);
    fcntl(ssh_bind_get_fd(listener_.bind), F_SETFD, FD_CLOEXEC);
    return 0;
}

void Server::accept_one() {
    // Freed on every path that does not hand it to a session thread. Only freed: before the key
    // exchange there is nobody to say goodbye to (ssh_disconnect would send a packet).
    UnconnectedSession session(ssh_new());
    if (session == nullptr) {
        spdlog::warn("cannot accept a connection: out of memory");
        return;
    }
    if (ssh_bind_accept(listener_.bind, session.get()) != SSH_OK) {
        K8PSH_DEBUG_LOG("server", "accept failed: {}", ssh_get_error(listener_.bind));
        return;
    }
    const int fd = ssh_get_fd(session.get());
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    std::uint64_t ticket = startups_->admit(fd);
    if (ticket == 0) {
        spdlog::warn("cannot watch a new connection, closing it: {}", strerror(errno));
        return;
    }
    ++active_;
    try {
        start_session_thread(session.get(), ticket);
        (void)session.release();  // the thread's Session owns it now
    } catch (const std::system_error &error) {
        // Out of threads (the process limit, memory): only this connection is lost. An uncaught
        // exception here would end every running command with the server.
        spdlog::warn("cannot start a thread for a connection, closing it: {}", error.what());
        startups_->release(ticket);
        session.reset();
        --active_;
    }
}

void Server::start_session_thread(ssh_session session, std::uint64_t ticket) {
    std::thread([this, session, ticket] {
        serve_session(session, context_, ticket);
        // This thread's OpenSSL state (its random generators) goes now, not in a thread-exit
        // handler that may still be running when the last session lets the server exit.
        OPENSSL_thread_stop();
        --active_;
        uint64_t one = 1;
        (void)!write(ended_fd_.get(), &one, sizeof one);
    }).detach();
}

bool Server::open_internal_fds() {
    int shutdown_pipe[2] = {-1, -1};
    if (pipe2(shutdown_pipe, O_CLOEXEC) != 0) {
        spdlog::error("cannot create internal pipes: {}", strerror(errno));
        return false;
    }
    shutdown_read_.reset(shutdown_pipe[0]);
    shutdown_write_.reset(shutdown_pipe[1]);
    ended_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (ended_fd_.get() < 0) {
        spdlog::error("cannot create internal pipes: {}", strerror(errno));
        return false;
    }
    sigset_t signals;
    sigemptyset(&signals);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
        sigaddset(&signals, sig);
    }
    // SIGCHLD too as PID 1 (or a subreaper): the orphans of commands' process trees are ours.
    // Elsewhere a command's own exit reaches its session through its pidfd, and a SIGCHLD would
    // only wake this thread for nothing, once per command.
    bool orphans = orphans_come_here();
    set_orphans_come_here(orphans);
    if (orphans) {
        sigaddset(&signals, SIGCHLD);
    }
    // Blocked before any session thread exists, so only the signalfd below ever sees them.
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    signal_fd_.reset(signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
    if (signal_fd_.get() < 0) {
        // Blocked and unread, SIGTERM would never stop us.
        spdlog::error("cannot create a signalfd: {}", strerror(errno));
        return false;
    }
    return true;
}

bool Server::handle_signals() {
    bool stop = false;
    bool child = false;
    signalfd_siginfo info{};
    while (read(signal_fd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        if (info.ssi_signo == SIGCHLD) {
            child = true;
        } else if (!stop) {
            stop = true;
            spdlog::info("SIG{} received, shutting down", sigabbrev_np(static_cast<int>(info.ssi_signo)));
        }
    }
    if (child) {
        reap_orphans();
    }
    return stop;
}

int Server::run(const std::string &key_directory, const std::optional<std::string> &pidfile) {
    if (int code = open_listener(key_directory); code != 0) {
        return code;
    }
    // Before detaching, so a failure is still reported to the caller.
    if (!open_internal_fds()) {
        return exit_code::kConnection;
    }
    if (options_.background) {
        // Detach only once listening, so a bad key or a busy port is still reported here; and
        // the parent returns only when the child has written the pid file, so a caller of
        // `k8pshd -b -p FILE` can rely on FILE at once.
        int ready[2];
        if (pipe2(ready, O_CLOEXEC) != 0) {
            spdlog::error("cannot create a pipe: {}", strerror(errno));
            return exit_code::kConnection;
        }
        pid_t pid = fork();
        if (pid < 0) {
            spdlog::error("cannot fork: {}", strerror(errno));
            return exit_code::kConnection;
        }
        if (pid > 0) {
            close_fd(ready[1]);
            char status = 1;
            ssize_t n = read(ready[0], &status, 1);
            _exit(n == 1 && status == 0 ? 0 : exit_code::kUsage);
        }
        close_fd(ready[0]);
        setsid();
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            close_fd(null);
        }
        char status = pidfile && !write_pidfile(*pidfile) ? 1 : 0;
        (void)!write(ready[1], &status, 1);
        close_fd(ready[1]);
        if (status != 0) {
            return exit_code::kUsage;
        }
    } else if (pidfile && !write_pidfile(*pidfile)) {
        return exit_code::kUsage;
    }

    startups_.emplace(options_.max_startups, ended_fd_.get());
    command_slots_.emplace(options_.max_sessions);
    context_.config = &config_;
    context_.section = &section_;
    context_.shutdown_fd = shutdown_read_.get();
    context_.wait_for_commands = !options_.no_wait;
    context_.login_grace_ms = options_.login_grace_ms;
    // connectionReuseMs may be any long in the file: capped (about 24 days) so that neither the sum
    // nor a connection's deadline overflows.
    const long long reuse_ms = std::clamp<long long>(config_.connection_reuse_ms, 0, INT_MAX);
    context_.authenticated_idle_ms = reuse_ms > 0 ? reuse_ms + options_.login_grace_ms : options_.login_grace_ms;
    context_.hangup_grace_ms = options_.hangup_grace_ms;
    context_.commands = &commands_;
    context_.last_command_end = &last_command_end_;
    context_.max_commands = options_.max_connections;
    context_.started = &started_;
    context_.wake_fd = ended_fd_.get();
    context_.startups = &*startups_;
    context_.command_slots = options_.max_sessions >= 0 ? &*command_slots_ : nullptr;

    spdlog::info("serving {} command(s) of '{}' on {}:{}", section_.commands.size(), section_.name, options_.listen,
                 section_.port);
    int listen_fd = ssh_bind_get_fd(listener_.bind);
    const auto started = Clock::now();
    std::string leaving;  // why the server stopped accepting; it exits once no command runs
    for (;;) {
        // -m: once the last allowed command has started. -t, upstream's meaning: the server's
        // whole life, counted from its start. Either way new connections find nothing
        // listening (as with upstream's exited server), and commands already running finish
        // undisturbed (-w: they are killed).
        auto age = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
        if (leaving.empty() && options_.max_connections >= 0 && started_ >= options_.max_connections) {
            leaving = "served " + std::to_string(options_.max_connections) + " command(s) (--max-connections)";
        } else if (leaving.empty() && options_.timeout_ms >= 0 && age >= options_.timeout_ms) {
            leaving = "timeout of " + std::to_string(options_.timeout_ms) + " ms reached";
        }
        if (!leaving.empty()) {
            if (listen_fd >= 0) {
                ssh_bind_free(listener_.bind);
                listener_.bind = nullptr;
                listen_fd = -1;
                if (commands_ > 0 && !options_.no_wait) {
                    spdlog::info("{}: no new connections; waiting for {} running command(s)", leaving,
                                 commands_.load());
                }
            }
            if (commands_ == 0 || options_.no_wait) {
                spdlog::info("{}, exiting", leaving);
                break;
            }
        }
        // All startup slots taken: the oldest holder is cut once it has had its share, and until
        // then new clients wait in the listen backlog, not in our memory.
        int room = listen_fd >= 0 ? startups_->make_room() : -1;
        bool accepting = listen_fd >= 0 && room < 0;
        pollfd fds[3] = {
            {accepting ? listen_fd : -1, POLLIN, 0}, {signal_fd_.get(), POLLIN, 0}, {ended_fd_.get(), POLLIN, 0}};
        int timeout = room;
        if (leaving.empty() && options_.timeout_ms >= 0) {
            int left = static_cast<int>(std::min<long long>(options_.timeout_ms - age, 24LL * 3600 * 1000));
            timeout = timeout < 0 ? left : std::min(timeout, left);
        }
        // --idle-timeout: no command running, for MS since the last one ended.
        if (leaving.empty() && options_.idle_timeout_ms >= 0 && commands_ == 0) {
            auto since = Clock::time_point(Clock::duration(last_command_end_.load()));
            auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
            if (idle >= options_.idle_timeout_ms) {
                spdlog::info("idle for {} ms, exiting", options_.idle_timeout_ms);
                break;
            }
            int remaining = static_cast<int>(std::min<long long>(options_.idle_timeout_ms - idle, 24LL * 3600 * 1000));
            timeout = timeout < 0 ? remaining : std::min(timeout, remaining);
        }
        int ready = poll(fds, 3, timeout);
        if (ready < 0 && errno != EINTR) {
            spdlog::error("poll: {}", strerror(errno));
            break;
        }
        if (fds[1].revents != 0 && handle_signals()) {
            break;
        }
        if (fds[2].revents != 0) {
            uint64_t count = 0;
            (void)!read(ended_fd_.get(), &count, sizeof count);
            if (active_ == 0) {
                malloc_trim(0);  // give a burst's session buffers back while idle
            }
        }
        if (fds[0].revents != 0) {
            accept_one();
        }
    }
    shut_down();
    if (pidfile) {
        unlink(pidfile->c_str());
    }
    return 0;
}

void Server::shut_down() {
    // Stop accepting, tell every session (their commands get SIGTERM), wait for them to end.
    if (listener_.bind != nullptr) {
        ssh_bind_free(listener_.bind);
        listener_.bind = nullptr;
    }
    (void)!write(shutdown_write_.get(), "x", 1);
    // A thread in a key exchange does not watch the shutdown pipe: cutting its socket ends it
    // now instead of after the login grace.
    startups_->cut_all();
    while (active_ > 0) {
        pollfd fds[2] = {{ended_fd_.get(), POLLIN, 0}, {signal_fd_.get(), POLLIN, 0}};
        poll(fds, 2, 1000);
        uint64_t count = 0;
        (void)!read(ended_fd_.get(), &count, sizeof count);
        if (fds[1].revents != 0) {
            handle_signals();  // orphans still exit while the last commands finish
        }
    }
}

}  // namespace

int run_server(const std::vector<std::string> &args, const char *argv0) {
    ensure_crypto_ready();
    ServerOptions options;
    Config config;
    std::string name;
    try {
        options = parse_server(args);
        std::optional<Config> loaded = load_config_or_report(options.config);
        if (!loaded) {
            return exit_code::kUsage;
        }
        config = std::move(*loaded);
        name = options.name.value_or("");
        if (name.empty()) {
            const char *env = std::getenv("K8PSH_NAME");
            name = env != nullptr && *env != '\0' ? env : host_name();
        }
        // Options written on the server's section line apply first, the command line's after.
        if (const ServerSection *section = config.find_server(name); section != nullptr) {
            std::vector<std::string> merged = section->options;
            merged.insert(merged.end(), args.begin(), args.end());
            options = parse_server(merged);
        }
    } catch (const CliExit &exit) {
        return exit.code;
    }
    for (const auto &warning : config.warnings) {
        spdlog::warn("{}", warning);
    }
    const ServerSection *section = config.find_server(name);

    std::string self = self_path(argv0);
    std::vector<std::string> stubs;
    if (!options.disable_client_executables) {
        StubOptions stub_options;
        // Upstream writes stubs into the current directory unless told otherwise.
        stub_options.directory = options.executable_directory.value_or(".");
        stub_options.target = self;
        stub_options.local_server = name;
        stub_options.include_local = options.generate_local_executables;
        stub_options.overwrite = options.overwrite_client_executables;
        try {
            stubs = write_stubs(config, stub_options);
        } catch (const std::exception &error) {
            // Writing stubs is the whole job of a client's run; a server with commands to
            // serve (often on a read-only volume) serves them anyway.
            if (section == nullptr || section->commands.empty()) {
                spdlog::error("{}", error.what());
                return exit_code::kUsage;
            }
            spdlog::warn("{} (serving anyway; -d skips stubs)", error.what());
        }
    }
    if (section == nullptr || section->commands.empty()) {
        // A client container runs `k8pshd -e DIR && …`: stubs written, nothing to serve, and
        // the stubs stay for the commands that follow.
        K8PSH_DEBUG_LOG("server", "'{}' exposes no commands; stubs written, exiting", name);
        return 0;
    }

    mallopt(M_ARENA_MAX, 1);  // one malloc arena: session threads would each grow their own
    signal(SIGPIPE, SIG_IGN);
    std::optional<std::string> pidfile = options.pidfile;
    if (options.background && !pidfile) {
        pidfile = "/run/k8pshd.pid";
    }
    Server server(options, config, *section);
    int code = server.run(resolve_key_directory(options.keys, config, argv0), pidfile);
    if (!options.keep_client_executables) {
        remove_stubs(stubs);
    }
    return code;
}

}  // namespace k8psh
