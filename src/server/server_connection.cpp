#include "server_connection.h"

#include "log.h"
#include "openssh_format.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace k8psh {
namespace server_detail {
namespace {

std::string peer_of(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (getpeername(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
        return "?";
    }
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (address.ss_family == AF_INET) {
        auto *in = reinterpret_cast<sockaddr_in *>(&address);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
    } else if (address.ss_family == AF_INET6) {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&address);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
    }
    return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

Connection::~Connection() {
    // Channels first: each kills a command still running and frees its libssh channel while the
    // session it belongs to is still there.
    while (!channels_.empty()) {
        channels_.front()->log_result();
        channels_.pop_front();
    }
    leave_startup_slot();
    if (event_ != nullptr) {
        ssh_event_remove_session(event_, ssh_);
        ssh_event_free(event_);
    }
}

void Connection::run() {
    int fd = ssh_get_fd(ssh_);
    int one = 1;
    // libssh writes a reply as several small packets: without this, delayed ACKs cost 40 ms each.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    peer_ = peer_of(fd);

    server_callbacks_.userdata = this;
    server_callbacks_.auth_pubkey_function = auth_pubkey_cb;
    server_callbacks_.channel_open_request_session_function = channel_open_cb;
    ssh_callbacks_init(&server_callbacks_);
    ssh_set_server_callbacks(ssh_, &server_callbacks_);
    // Whatever the callbacks above do not handle (tcpip-forward and other global requests,
    // direct-tcpip/x11/agent channels) gets libssh's default answer, a failure, at once;
    // without this a global request would stay unanswered and its client would hang.
    ssh_set_message_callback(
        ssh_, [](ssh_session, ssh_message, void *) { return 1; }, nullptr);
    ssh_set_auth_methods(ssh_, SSH_AUTH_METHOD_PUBLICKEY);

    long grace_s = (context_.login_grace_ms + 999) / 1000;
    ssh_options_set(ssh_, SSH_OPTIONS_TIMEOUT, &grace_s);
    if (ssh_handle_key_exchange(ssh_) != SSH_OK) {
        K8PSH_DEBUG_LOG("server", "{}: key exchange failed: {}", peer_, ssh_get_error(ssh_));
        return;
    }
    ssh_set_blocking(ssh_, 0);
    event_ = ssh_event_new();
    ssh_event_add_session(event_, ssh_);
    loop();
}

int Connection::on_auth_pubkey(ssh_key key, char state) {
    char *offered = nullptr;
    bool match = false;
    if (ssh_pki_export_pubkey_base64(key, &offered) == SSH_OK) {
        const auto &allowed = context_.client_key_blob;
        match =
            same_key_base64(offered, std::string_view(reinterpret_cast<const char *>(allowed.data()), allowed.size()));
        ssh_string_free_char(offered);
    }
    // OpenSSH first asks whether the key would do (state NONE, answered "it would" and nothing
    // more), then signs: only a signature libssh has verified (VALID) lets anyone in. Any other
    // state is a failed or unverifiable signature, whatever the key.
    if (!match || (state != SSH_PUBLICKEY_STATE_NONE && state != SSH_PUBLICKEY_STATE_VALID)) {
        ++auth_failures_;
        K8PSH_DEBUG_LOG("server", "{}: public key refused", peer_);
        return SSH_AUTH_DENIED;
    }
    if (state == SSH_PUBLICKEY_STATE_VALID) {
        K8PSH_DEBUG_LOG("server", "{}: authenticated", peer_);
        authenticated_ = true;
        leave_startup_slot();  // a startup slot is for strangers only
    }
    return SSH_AUTH_SUCCESS;
}

ssh_channel Connection::on_channel_open() {
    // libssh asks only once the client has authenticated. Not while stopping: a command started
    // now would only be killed again.
    if (channels_.size() >= kMaxChannelsPerConnection || shutdown_seen_) {
        return nullptr;
    }
    auto channel = std::make_unique<Channel>(ssh_, context_, peer_);
    if (channel->handle() == nullptr) {
        return nullptr;
    }
    channels_.push_back(std::move(channel));
    return channels_.back()->handle();
}

bool Connection::connection_lost() const {
    return (ssh_get_status(ssh_) & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0 || !ssh_is_connected(ssh_);
}

bool Connection::has_command() const {
    for (const auto &channel : channels_) {
        if (channel->has_command()) {
            return true;
        }
    }
    return false;
}

bool Connection::drop_done_channels() {
    bool had_command = false;
    for (auto it = channels_.begin(); it != channels_.end();) {
        if ((*it)->phase() != Channel::Phase::Done) {
            ++it;
            continue;
        }
        had_command = had_command || (*it)->has_command();
        (*it)->log_result();
        it = channels_.erase(it);
    }
    return had_command;
}

Clock::time_point Connection::idle_deadline() const {
    const long long limit = authenticated_ ? context_.authenticated_idle_ms : context_.login_grace_ms;
    return idle_since_ + std::chrono::milliseconds(limit);
}

void Connection::loop() {
    const int ssh_fd = ssh_get_fd(ssh_);
    PollSet set;
    for (;;) {
        set.clear();
        short ssh_events = POLLIN;
        if (ssh_get_poll_flags(ssh_) & SSH_WRITE_PENDING) {
            ssh_events |= POLLOUT;
        }
        const int i_ssh = vanished_ ? -1 : set.add(ssh_fd, ssh_events);
        const int i_stop = shutdown_seen_ ? -1 : set.add(context_.shutdown_fd, POLLIN);
        for (auto &channel : channels_) {
            channel->watch(set);
        }
        const bool idle = !has_command();
        if (idle && !vanished_) {
            set.deadline(idle_deadline());
        }
        if (!set.wait()) {
            break;
        }

        if (set.fired(i_ssh)) {
            // libssh runs the callbacks from here: auth, new channels, their requests.
            if (ssh_event_dopoll(event_, 0) == SSH_ERROR || connection_lost()) {
                K8PSH_DEBUG_LOG("server", "{}: connection ended: {}", peer_, ssh_get_error(ssh_));
                vanished_ = true;
                for (auto &channel : channels_) {
                    channel->client_vanished();
                }
            }
        }
        if (!vanished_ && !has_command() && (auth_failures_ > 6 || Clock::now() >= idle_deadline())) {
            if (authenticated_) {
                K8PSH_DEBUG_LOG("server", "{}: idle without a command for {} ms", peer_,
                                context_.authenticated_idle_ms);
            } else {
                K8PSH_DEBUG_LOG("server", "{}: no command within the login grace time", peer_);
            }
            break;
        }
        if (set.fired(i_stop)) {
            shutdown_seen_ = true;
            for (auto &channel : channels_) {
                channel->server_stopping();
            }
        }
        for (auto &channel : channels_) {
            channel->step(set);
        }
        if (drop_done_channels() && !has_command()) {
            idle_since_ = Clock::now();
        }
        // Gone, or stopping, once nothing runs any more. A client that just keeps its connection
        // open between commands (a ControlMaster, a reuse master) is cut by the idle rule above.
        if ((vanished_ || shutdown_seen_) && channels_.empty()) {
            break;
        }
    }
}

}  // namespace server_detail

void serve_session(ssh_session session, const ServerContext &context, std::uint64_t startup_ticket) {
    server_detail::Connection connection(session, context, startup_ticket);
    connection.run();
}

}  // namespace k8psh
