#include "client_connection.h"

#include "crypto_init.h"
#include "keys.h"
#include "log.h"
#include "openssh_format.h"
#include "sys.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <poll.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace k8psh {
namespace {

// The ed25519 keys the known_hosts file trusts (openssh_format.h parses it).
std::vector<std::string> trusted_host_keys(const std::string &path) {
    std::string text;
    if (!read_file(path, text)) {
        throw ConnectError{path + ": cannot read known_hosts: " + strerror(errno)};
    }
    return known_hosts_ed25519_keys(text);
}

void verify_host_key(ssh_session session, const ConnectTarget &target) {
    std::string path = target.key_directory + "/" + kKnownHosts;
    auto trusted = trusted_host_keys(path);
    ssh_key key = nullptr;
    char *offered = nullptr;
    if (ssh_get_server_publickey(session, &key) == SSH_OK) {
        ssh_pki_export_pubkey_base64(key, &offered);
        ssh_key_free(key);
    }
    bool match = false;
    if (offered != nullptr) {
        for (const auto &candidate : trusted) {
            match = match || same_key_base64(candidate, offered);
        }
        ssh_string_free_char(offered);
    }
    if (!match) {
        throw ConnectError{"host key mismatch: the server at " + target.host + ":" + std::to_string(target.port) +
                           " is not the pod's (not in " + path + ")"};
    }
}

ssh_session new_session(const ConnectTarget &target) {
    ssh_session session = ssh_new();
    if (session == nullptr) {
        throw ConnectError{"out of memory"};
    }
    int no = 0;
    int yes = 1;
    unsigned int port = static_cast<unsigned int>(target.port);
    std::string known_hosts = target.key_directory + "/" + kKnownHosts;
    // No config files, no home directory, no user lookup: everything this session needs is
    // explicit, and it works in a container without /etc/passwd.
    ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no);
    ssh_options_set(session, SSH_OPTIONS_HOST, target.host.c_str());
    ssh_options_set(session, SSH_OPTIONS_PORT, &port);
    ssh_options_set(session, SSH_OPTIONS_USER, "k8psh");
    ssh_options_set(session, SSH_OPTIONS_SSH_DIR, target.key_directory.c_str());
    ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, known_hosts.c_str());
    ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null");
    ssh_options_set(session, SSH_OPTIONS_NODELAY, &yes);
    ssh_options_set(session, SSH_OPTIONS_COMPRESSION, "no");
    ssh_options_set(session, SSH_OPTIONS_HOSTKEYS, "ssh-ed25519");
    ssh_options_set(session, SSH_OPTIONS_PUBLICKEY_ACCEPTED_TYPES, "ssh-ed25519");
    ssh_options_set(session, SSH_OPTIONS_KEY_EXCHANGE, "curve25519-sha256,curve25519-sha256@libssh.org");
    // AES-GCM runs on AES-NI; chacha20 is the fallback on machines without it.
    const char *ciphers = "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com,aes128-ctr";
    ssh_options_set(session, SSH_OPTIONS_CIPHERS_C_S, ciphers);
    ssh_options_set(session, SSH_OPTIONS_CIPHERS_S_C, ciphers);
    long timeout_s = 10;
    ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout_s);
    return session;
}

// Sleeps `delay` unless a signal arrives on `interrupt_fd` first; returns its number, or 0.
// Nothing has run yet, so a signal meant for the command ends the stub instead. A window-size
// change is no reason to stop: there is no terminal session yet.
int wait_before_retry(int interrupt_fd, std::chrono::milliseconds delay) {
    if (interrupt_fd < 0) {
        std::this_thread::sleep_for(delay);
        return 0;
    }
    const auto until = Clock::now() + delay;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
        if (left <= 0) {
            return 0;
        }
        pollfd fd{interrupt_fd, POLLIN, 0};
        if (poll(&fd, 1, static_cast<int>(left)) <= 0) {
            continue;  // timed out (checked above) or EINTR
        }
        unsigned char signal = 0;
        ssize_t n = read(interrupt_fd, &signal, 1);
        if (n == 1 && signal != SIGWINCH) {
            return signal;
        }
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
            std::this_thread::sleep_for(std::chrono::milliseconds(left));  // a broken pipe: just wait
            return 0;
        }
    }
}

}  // namespace

OwnedSession connect_authenticated(const ConnectTarget &target) {
    ensure_crypto_ready();
    std::string key_path = target.key_directory + "/" + kClientKey;
    try {
        std::string warning = check_private_key_file(key_path);
        if (!warning.empty()) {
            spdlog::warn("{}", warning);
        }
    } catch (const KeyError &error) {
        throw ConnectError{error.what()};
    }
    ssh_key client_key = nullptr;
    if (ssh_pki_import_privkey_file(key_path.c_str(), nullptr, nullptr, nullptr, &client_key) != SSH_OK) {
        throw ConnectError{key_path + ": not a valid private key"};
    }
    K8PSH_DEBUG_LOG("client", "client key loaded");
    struct KeyGuard {
        ssh_key key;
        ~KeyGuard() { ssh_key_free(key); }
    } guard{client_key};

    // The server may still be starting (containers of a pod start in any order): retry with
    // backoff, 32 ms doubling to 1 s, until connectTimeoutMs.
    const auto start = Clock::now();
    auto delay = std::chrono::milliseconds(32);
    OwnedSession session;
    for (;;) {
        UnconnectedSession attempt(new_session(target));
        K8PSH_DEBUG_LOG("client", "session options set");
        if (ssh_connect(attempt.get()) == SSH_OK) {
            K8PSH_DEBUG_LOG("client", "connected to {}:{}", target.host, target.port);
            session.reset(attempt.release());
            break;
        }
        std::string reason = ssh_get_error(attempt.get());
        attempt.reset();
        auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        if (target.timeout_ms >= 0 && elapsed + delay > std::chrono::milliseconds(target.timeout_ms)) {
            throw ConnectError{"cannot connect to server '" + target.server_name + "' at " + target.host + ":" +
                               std::to_string(target.port) + " within " + std::to_string(target.timeout_ms) +
                               " ms: " + reason};
        }
        K8PSH_DEBUG_LOG("client", "connect failed ({}), retrying in {} ms", reason, delay.count());
        if (int signal = wait_before_retry(target.interrupt_fd, delay); signal != 0) {
            K8PSH_DEBUG_LOG("client", "signal {} while waiting for the server: giving up", signal);
            throw ConnectError{"", signal};
        }
        delay = std::min(delay * 2, std::chrono::milliseconds(1000));
    }
    // Closed by its owner if the host key or the authentication fails.
    verify_host_key(session.get(), target);
    if (ssh_userauth_publickey(session.get(), nullptr, client_key) != SSH_AUTH_SUCCESS) {
        throw ConnectError{"authentication failed: server '" + target.server_name + "' refused " + key_path};
    }
    K8PSH_DEBUG_LOG("client", "authenticated");
    return session;
}

}  // namespace k8psh
