#pragma once
// The server side of one client connection (server_session.h's serve_session): key exchange,
// public-key auth against the pod's client key, and one poll loop for the connection and all of
// its session channels (server_channel.h), each running its own command. Runs on its own thread.
#include "server_channel.h"
#include "server_session.h"
#include "ssh_owners.h"
#include "sys.h"

#include <libssh/callbacks.h>
#include <libssh/server.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>

namespace k8psh::server_detail {

// Channels one connection may hold open at once: OpenSSH's ControlMaster and a reuse master run
// one per command; --max-sessions, not this, is the limit on commands.
inline constexpr std::size_t kMaxChannelsPerConnection = 256;

class Connection {
public:
    Connection(ssh_session session, const ServerContext &context, std::uint64_t startup_ticket)
        : owner_(session), ssh_(session), context_(context), startup_ticket_(startup_ticket) {}
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    void run();

private:
    static int auth_pubkey_cb(ssh_session, const char *, ssh_key key, char state, void *self) {
        return static_cast<Connection *>(self)->on_auth_pubkey(key, state);
    }
    static ssh_channel channel_open_cb(ssh_session, void *self) {
        return static_cast<Connection *>(self)->on_channel_open();
    }
    int on_auth_pubkey(ssh_key key, char state);
    ssh_channel on_channel_open();

    void loop();
    bool connection_lost() const;
    // True while some channel has a command: the connection is at work, not idle.
    bool has_command() const;
    // Drops the channels that are done, each with its log line; true when one had a command.
    bool drop_done_channels();
    // When a connection without a command is cut: idle_since_ plus the login grace, or once
    // authenticated, the server's authenticated_idle_ms (server_session.h).
    Clock::time_point idle_deadline() const;
    void leave_startup_slot() {
        if (context_.startups != nullptr) {
            context_.startups->release(startup_ticket_);
        }
    }

    OwnedSession owner_;  // says goodbye and frees it after the destructor's own steps
    ssh_session ssh_;
    const ServerContext &context_;
    const std::uint64_t startup_ticket_;
    ssh_event event_ = nullptr;
    ssh_server_callbacks_struct server_callbacks_{};

    std::string peer_;
    int auth_failures_ = 0;
    bool authenticated_ = false;
    bool vanished_ = false;
    bool shutdown_seen_ = false;
    // Without a command, a connection is cut at idle_deadline(), counted from this: its start,
    // and again its last command's end.
    Clock::time_point idle_since_ = Clock::now();
    std::list<std::unique_ptr<Channel>> channels_;
};

}  // namespace k8psh::server_detail
