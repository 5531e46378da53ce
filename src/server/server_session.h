#pragma once
// One client connection on the server: key exchange, public-key auth against the pod's client
// key, then any number of session channels at once, each running one configured command with
// its bytes both ways and the RFC 4254 end order (server_connection.h, server_channel.h). Runs
// on its own thread; nothing here is shared but the context.
#include "config.h"
#include "sys.h"

#include <libssh/libssh.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace k8psh {

class CommandSlots;
class StartupSlots;

struct ServerContext {
    const Config *config = nullptr;
    const ServerSection *section = nullptr;
    std::vector<unsigned char> client_key_blob;  // the only public key allowed in
    int shutdown_fd = -1;                        // becomes readable when the server stops
    bool wait_for_commands = true;               // false with --no-wait: kill commands at shutdown
    int login_grace_ms = 10000;                  // to authenticate, from the connection's start
    int hangup_grace_ms = 5000;                  // SIGHUP → SIGKILL for commands of vanished clients
    int shutdown_grace_ms = 10000;               // SIGTERM → SIGKILL for commands at shutdown
    // How long an authenticated connection may stay without a command, from its start and again
    // from its last command's end. A reuse master keeps one open between commands and leaves by
    // itself after the configuration's connectionReuseMs, so that plus the login grace (the
    // margin); without reuse (connectionReuseMs <= 0), the login grace.
    long long authenticated_idle_ms = 10000;
    // Channels with a command requested and not yet ended: the server's idle timeout (-t)
    // counts from when this drops to 0 (at `last_command_end`, set by the channel that ends);
    // connections held open without a command (a reuse master's between commands) are not work.
    std::atomic<int> *commands = nullptr;
    std::atomic<Clock::rep> *last_command_end = nullptr;
    // -m: how many commands this server runs in its life (-1: no limit). `started` counts them;
    // the one that reaches the limit wakes the server (`wake_fd`, an eventfd) so it stops
    // accepting. Later exec requests, also on connections already open, are refused.
    long max_commands = -1;
    std::atomic<long> *started = nullptr;
    int wake_fd = -1;
    StartupSlots *startups = nullptr;       // holds this connection until it authenticates
    CommandSlots *command_slots = nullptr;  // --max-sessions; null: no limit
};

// Serves the accepted `session` to its end and frees it; `startup_ticket` is its slot in
// context.startups.
void serve_session(ssh_session session, const ServerContext &context, std::uint64_t startup_ticket);

}  // namespace k8psh
