#pragma once
// The server side of one connection (server_session.h), shared by the files that implement it:
// server_session.cpp (its life: handshake, event loop, hang-up, end), server_requests.cpp (what
// the client asks: auth, channel, env, pty, exec, signals) and server_streams.cpp (the
// command's bytes both ways and the RFC 4254 end-of-session order).
#include "connection_limits.h"
#include "env_rules.h"
#include "exit_codes.h"
#include "process.h"
#include "server_pty.h"
#include "server_session.h"
#include "ssh_owners.h"
#include "sys.h"
#include "wire.h"

#include <libssh/callbacks.h>
#include <libssh/server.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace k8psh::server_detail {

// Bounds on what one client may make us hold (README: Arguments, up to 16 MiB of quoted argv).
using wire::kMaxExecBytes;
inline constexpr std::size_t kMaxEnvRequests = 4096;
inline constexpr int kCloseLingerMs = 5000;
using wire::kArgvPartName;
using wire::kCwdName;
using wire::kMergeStderrName;

class Session {
public:
    Session(ssh_session session, const ServerContext &context, std::uint64_t startup_ticket)
        : owner_(session), ssh_(session), context_(context), startup_ticket_(startup_ticket) {}
    ~Session();
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;

    void run();
    bool ran_command() const { return exec_requested_; }

private:
    void begin_command() {
        exec_requested_ = true;
        command_started_ = Clock::now();
        if (context_.commands != nullptr) {
            ++*context_.commands;  // the server lowers it again when this session has ended
        }
    }

    // libssh callbacks: static trampolines into the members below.
    static int auth_pubkey_cb(ssh_session, const char *, ssh_key key, char state, void *self) {
        return static_cast<Session *>(self)->on_auth_pubkey(key, state);
    }
    static ssh_channel channel_open_cb(ssh_session, void *self) {
        return static_cast<Session *>(self)->on_channel_open();
    }
    static int env_cb(ssh_session, ssh_channel, const char *name, const char *value, void *self) {
        return static_cast<Session *>(self)->on_env(name, value);
    }
    static int exec_cb(ssh_session, ssh_channel, const char *command, void *self) {
        return static_cast<Session *>(self)->on_exec(command);
    }
    static int shell_cb(ssh_session, ssh_channel, void *self) { return static_cast<Session *>(self)->on_exec(""); }
    static int subsystem_cb(ssh_session, ssh_channel, const char *name, void *self) {
        // No sftp or other subsystems: accepted only to say so on stderr, with exit 127.
        auto *session = static_cast<Session *>(self);
        if (session->exec_requested_) {
            return SSH_ERROR;
        }
        session->begin_command();
        session->refuse(exit_code::kUnknownCommand,
                        std::string("no subsystems here (") + name + "); run one of: " + session->allowed_commands());
        return SSH_OK;
    }
    static int pty_cb(ssh_session, ssh_channel, const char *term, int columns, int rows, int width, int height,
                      void *self) {
        return static_cast<Session *>(self)->on_pty(term, WindowSize{columns, rows, width, height});
    }
    static int window_change_cb(ssh_session, ssh_channel, int columns, int rows, int width, int height, void *self) {
        static_cast<Session *>(self)->on_window_change(WindowSize{columns, rows, width, height});
        return SSH_OK;
    }
    static void signal_cb(ssh_session, ssh_channel, const char *name, void *self) {
        static_cast<Session *>(self)->on_signal(name);
    }
    static void close_cb(ssh_session, ssh_channel, void *self) { static_cast<Session *>(self)->channel_closed_ = true; }

    int on_auth_pubkey(ssh_key key, char state);
    ssh_channel on_channel_open();
    int on_env(const char *name, const char *value);
    int on_exec(const char *command);
    int on_pty(const char *term, const WindowSize &size);
    void on_window_change(const WindowSize &size);
    void on_signal(const char *name);

    bool connection_lost() const;
    void start_command(const std::string &exec_string);
    bool take_command_slot();
    void spawn_pending();
    void give_back_command_slot();
    void refuse(int code, const std::string &message);
    std::string allowed_commands() const;
    void loop();
    void pump_stdin();
    // Moves bytes from fd to the channel while the window allows; false once fd is at its end.
    bool pump_output(int fd, bool is_stderr);
    void pump_pipe(int &fd, bool is_stderr);
    void send_exit();
    void client_vanished();
    void arm_kill(int grace_ms);

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
    ssh_channel channel_ = nullptr;
    ssh_server_callbacks_struct server_callbacks_{};
    ssh_channel_callbacks_struct channel_callbacks_{};

    std::string peer_;
    Clock::time_point started_ = Clock::now();
    Clock::time_point command_started_{};  // the log's duration: a reused connection may wait first
    int auth_failures_ = 0;
    bool exec_requested_ = false;
    bool channel_closed_ = false;
    bool vanished_ = false;
    bool done_ = false;
    bool shutdown_seen_ = false;

    EnvMap client_env_;
    std::size_t env_requests_ = 0;
    wire::ExecAssembler exec_parts_;  // the command line's pieces sent ahead of the exec request
    std::string command_name_ = "-";

    bool want_pty_ = false;
    bool pty_drained_ = false;  // no more output will be read from the master
    std::string term_;
    WindowSize window_{};
    Pty pty_;

    SpawnRequest pending_spawn_;  // a command waiting for a --max-sessions slot
    CommandSlots::Ticket slot_;
    bool waiting_for_slot_ = false;
    Child child_;
    bool child_running_ = false;
    bool reaped_ = false;
    int wait_status_ = 0;
    int refused_code_ = -1;  // k8psh's own exit code when the command never started
    std::string refusal_;
    std::string stdin_pending_;
    bool stdin_closed_ = false;
    std::uint64_t bytes_in_ = 0;
    std::uint64_t bytes_out_ = 0;
    int exit_code_ = -1;
    bool kill_armed_ = false;
    bool closing_ = false;  // exit sent; waiting for the client to disconnect
    Clock::time_point kill_deadline_{};
    Clock::time_point linger_deadline_{};  // closing: the client has until then to hang up
};

}  // namespace k8psh::server_detail
