#pragma once
// A real k8pshd for the client-side unit tests: the freshly built binary (K8PSH_BIN, else the
// path CMake compiled in) started under the name k8pshd, with a pod's keys made by pki in a
// scratch directory, on a free loopback port. Killed and reaped when the object goes, on every
// path.
#include "client_connection.h"
#include "keys.h"
#include "sys.h"
#include "temp_dir.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace k8psh::test {

inline std::string k8psh_binary() {
    if (const char *bin = std::getenv("K8PSH_BIN"); bin != nullptr && *bin != '\0') {
        return bin;
    }
#ifdef K8PSH_TEST_BINARY
    return K8PSH_TEST_BINARY;
#else
    return "";
#endif
}

// Under qemu-user everything is several times slower; the bounds grow with it (at least by
// K8PSH_TIME_SCALE, as the integration tests' do).
inline int time_scale() {
    const char *scale = std::getenv("K8PSH_TIME_SCALE");
    const int asked = scale != nullptr ? std::atoi(scale) : 1;
    return std::max(asked, std::getenv("K8PSH_EMULATED") != nullptr ? 10 : 1);
}

// A loopback port nobody listens on right now, chosen by the kernel.
inline int free_port() {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (fd.get() < 0 || bind(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 ||
        getsockname(fd.get(), reinterpret_cast<sockaddr *>(&address), &length) != 0) {
        return -1;
    }
    return ntohs(address.sin_port);
}

inline bool accepts_connections(int port) {
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    return fd.get() >= 0 && connect(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof address) == 0;
}

class TestServer {
public:
    // `commands`: the lines of the server's section, e.g. "sh /bin/sh".
    explicit TestServer(const std::vector<std::string> &commands) : commands_(commands) {}
    ~TestServer() { stop(); }
    TestServer(const TestServer &) = delete;
    TestServer &operator=(const TestServer &) = delete;

    // Makes the keys and the configuration (the first time), starts the server and waits until
    // it accepts connections. A server started again after stop() keeps its keys and port.
    // False with the reason in `why` (the server's log included).
    bool start(std::string &why) {
        const std::string binary = k8psh_binary();
        if (binary.empty() || access(binary.c_str(), X_OK) != 0) {
            why = "no k8psh binary at '" + binary + "' (set K8PSH_BIN)";
            return false;
        }
        if (port_ < 0) {
            ensure_key_directory(key_directory(), {});
            port_ = free_port();
            std::string config;
            for (const auto &line : settings_) {
                config += line + "\n";
            }
            config += "[ srv:" + std::to_string(port_) + " ]\n";
            for (const auto &line : commands_) {
                config += "  " + line + "\n";
            }
            write_file(dir_ / "k8psh.conf", config);
        }

        const std::string conf = dir_ / "k8psh.conf";
        const std::string keys = key_directory();
        const std::string log = log_path();
        std::vector<std::string> args = {"k8pshd", "-c", conf, "-n", "srv", "--keys", keys, "-d"};
        args.insert(args.end(), arguments_.begin(), arguments_.end());
        std::vector<char *> argv = exec_array(args);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        const int rc = posix_spawn(&pid_, binary.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
            pid_ = -1;
            why = "cannot start " + binary + ": " + std::strerror(rc);
            return false;
        }
        // Polled with a bound: nothing tells us when another process starts listening.
        const auto deadline = Clock::now() + std::chrono::seconds(30 * time_scale());
        while (!accepts_connections(port_)) {
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                why = "the server exited (status " + std::to_string(status) + "): " + read_file(log);
                return false;
            }
            if (Clock::now() > deadline) {
                why = "the server did not listen on port " + std::to_string(port_) + ": " + read_file(log);
                return false;
            }
            poll(nullptr, 0, 20);
        }
        return true;
    }

    // SIGTERM, then SIGKILL if it has not ended within a generous bound; always reaped.
    void stop() {
        if (pid_ <= 0) {
            return;
        }
        kill(pid_, SIGTERM);
        const auto deadline = Clock::now() + std::chrono::seconds(20 * time_scale());
        int status = 0;
        while (waitpid(pid_, &status, WNOHANG) == 0) {
            if (Clock::now() > deadline) {
                kill(pid_, SIGKILL);
                waitpid(pid_, &status, 0);
                break;
            }
            poll(nullptr, 0, 10);
        }
        pid_ = -1;
    }

    // Ends the server at once (SIGKILL) and reaps it: a server that vanishes mid-command.
    void kill_now() {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            int status = 0;
            waitpid(pid_, &status, 0);
            pid_ = -1;
        }
    }

    // Another line for the section, before the first start().
    void add_command(const std::string &line) { commands_.push_back(line); }
    // A setting line ahead of the section, before the first start().
    void add_setting(const std::string &line) { settings_.push_back(line); }
    // More k8pshd options, before start().
    void add_arguments(const std::vector<std::string> &arguments) {
        arguments_.insert(arguments_.end(), arguments.begin(), arguments.end());
    }

    // Sends a signal to the running server (it is still reaped by stop() or wait_exit()).
    void signal(int number) const {
        if (pid_ > 0) {
            kill(pid_, number);
        }
    }

    // Waits for the server to end by itself within `seconds` (scaled); its exit status, or -1
    // when it is still running (it is then left to stop()).
    int wait_exit(int seconds) {
        if (pid_ <= 0) {
            return -1;
        }
        const auto deadline = Clock::now() + std::chrono::seconds(seconds * time_scale());
        int status = 0;
        while (waitpid(pid_, &status, WNOHANG) == 0) {
            if (Clock::now() > deadline) {
                return -1;
            }
            poll(nullptr, 0, 10);
        }
        pid_ = -1;
        return status;
    }

    pid_t pid() const { return pid_; }

    int port() const { return port_; }
    std::string key_directory() const { return dir_ / "keys"; }
    // Where a client finds this server ("srv"), with a generous connect time.
    ConnectTarget target() const {
        ConnectTarget target;
        target.port = port_;
        target.server_name = "srv";
        target.key_directory = key_directory();
        target.timeout_ms = 20000L * time_scale();
        return target;
    }
    std::string log_path() const { return dir_ / "server.log"; }
    const TempDir &dir() const { return dir_; }

private:
    std::vector<std::string> commands_;
    std::vector<std::string> arguments_;
    std::vector<std::string> settings_;
    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = -1;
};

}  // namespace k8psh::test

// Starts `server` (a TestServer) from a test or its SetUp: a fatal failure when it cannot, a
// skip under qemu-user, where this machine's binfmt may not run the server the way a test needs.
// A macro because GTEST_SKIP and FAIL return from the function they are written in.
#define K8PSH_START_TEST_SERVER(server)                                                               \
    do {                                                                                              \
        std::string why_not_started;                                                                  \
        if (!(server).start(why_not_started)) {                                                       \
            if (std::getenv("K8PSH_EMULATED") != nullptr) {                                           \
                GTEST_SKIP() << "the server cannot be started here (qemu-user): " << why_not_started; \
            }                                                                                         \
            FAIL() << why_not_started;                                                                \
        }                                                                                             \
    } while (0)
