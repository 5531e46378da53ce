#pragma once
// One session channel of a client connection (server_connection.h): what the client asks on it
// (env, pty, exec, signals, window changes), the one command it runs, that command's bytes both
// ways under this channel's own SSH window, and the RFC 4254 end (data, exit status, EOF, close).
// A connection carries any number of them at once; nothing here is shared with its siblings but
// the connection's libssh session, which only the connection's thread touches.
//
// Implemented in server_channel.cpp (its phases and the end), server_requests.cpp (the requests)
// and server_streams.cpp (the bytes).
#include "connection_limits.h"
#include "env_rules.h"
#include "exit_codes.h"
#include "poll_set.h"
#include "process.h"
#include "server_pty.h"
#include "server_session.h"
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

class Channel {
public:
    // Requested: open, collecting env and pty requests until exec. Queued: the command waits for
    // a --max-sessions slot. Running: the command was started (or refused) and its bytes flow
    // until the exit is sent. Closing: exit status, EOF and close are sent; the client's close is
    // awaited. Done: the connection drops the channel.
    enum class Phase { Requested, Queued, Running, Closing, Done };

    Channel(ssh_session ssh, const ServerContext &context, const std::string &peer);
    ~Channel();
    Channel(const Channel &) = delete;
    Channel &operator=(const Channel &) = delete;

    ssh_channel handle() const { return channel_; }
    Phase phase() const { return phase_; }
    // A command was asked for on this channel (it counts as work for the server's idle timeout).
    bool has_command() const { return phase_ != Phase::Requested; }

    // Adds what the channel waits for to the connection's next poll.
    void watch(PollSet &set);
    // After that poll (and after libssh has run the callbacks): reaps, moves bytes, ends.
    void step(const PollSet &set);
    // The connection is gone, or the client closed this channel early: like a terminal hang-up.
    void client_vanished();
    // The server stops: the command gets SIGTERM (or SIGKILL with --no-wait), a channel without
    // one ends now.
    void server_stopping();
    // The server's one line for this channel's command, once it is done.
    void log_result() const;

private:
    // libssh callbacks: static trampolines into the members below.
    static int env_cb(ssh_session, ssh_channel, const char *name, const char *value, void *self) {
        return static_cast<Channel *>(self)->on_env(name, value);
    }
    static int exec_cb(ssh_session, ssh_channel, const char *command, void *self) {
        return static_cast<Channel *>(self)->on_exec(command);
    }
    static int shell_cb(ssh_session, ssh_channel, void *self) { return static_cast<Channel *>(self)->on_exec(""); }
    static int subsystem_cb(ssh_session, ssh_channel, const char *name, void *self) {
        return static_cast<Channel *>(self)->on_subsystem(name);
    }
    static int pty_cb(ssh_session, ssh_channel, const char *term, int columns, int rows, int width, int height,
                      void *self) {
        return static_cast<Channel *>(self)->on_pty(term, WindowSize{columns, rows, width, height});
    }
    static int window_change_cb(ssh_session, ssh_channel, int columns, int rows, int width, int height, void *self) {
        static_cast<Channel *>(self)->on_window_change(WindowSize{columns, rows, width, height});
        return SSH_OK;
    }
    static void signal_cb(ssh_session, ssh_channel, const char *name, void *self) {
        static_cast<Channel *>(self)->on_signal(name);
    }
    static void close_cb(ssh_session, ssh_channel, void *self) {
        static_cast<Channel *>(self)->closed_by_client_ = true;
    }

    int on_env(const char *name, const char *value);
    int on_exec(const char *command);
    int on_subsystem(const char *name);
    int on_pty(const char *term, const WindowSize &size);
    void on_window_change(const WindowSize &size);
    void on_signal(const char *name);

    void begin_command();
    void start_command(const std::string &exec_string);
    bool take_command_slot();
    void spawn_pending();
    void give_back_command_slot();
    // Closes what the command held (its pipes, pidfd, terminal, slot eventfd) once it is over.
    void release_command();
    void refuse(int code, const std::string &message);
    std::string allowed_commands() const;
    void pump_stdin();
    // Moves bytes from fd to the channel while the window allows; false once fd is at its end.
    bool pump_output(int fd, bool is_stderr);
    void pump_pipe(int &fd, bool is_stderr);
    void send_exit();
    void arm_kill(int grace_ms);
    void finish();

    ssh_session ssh_;
    const ServerContext &context_;
    const std::string &peer_;
    ssh_channel channel_ = nullptr;
    ssh_channel_callbacks_struct callbacks_{};
    Phase phase_ = Phase::Requested;

    // This poll's indices into the connection's PollSet (-1: not waited for).
    int i_out_ = -1, i_err_ = -1, i_pty_ = -1, i_in_ = -1, i_exit_ = -1, i_slot_ = -1;
    bool window_open_ = false;  // as it was when the poll was set up

    Clock::time_point command_started_{};  // the log's duration
    bool command_counted_ = false;         // in context.commands until the channel is dropped
    bool closed_by_client_ = false;
    bool vanished_ = false;
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
    Clock::time_point kill_deadline_{};
    Clock::time_point linger_deadline_{};  // closing: the client has until then to close
};

}  // namespace k8psh::server_detail
