#pragma once
// The reuse master's one authenticated connection and a channel on it per running command
// (README: Connection reuse). Only the master's connection thread calls these: libssh sessions
// are not shared between threads. The stubs' descriptors are not touched here; each job's relay
// thread moves their bytes (reuse_job.h).
//
// A command runs at most once: the server starts it inside its exec callback, before it
// replies. So a command is retried on a fresh connection only when its channel could not be
// opened on a connection that turned out dead (nothing was sent for it); once the exec request
// went out, a broken connection is exit 255.
#include "client_connection.h"
#include "reuse_job.h"

#include <libssh/callbacks.h>
#include <memory>
#include <vector>

namespace k8psh {

class ReuseConnection {
public:
    explicit ReuseConnection(const ConnectTarget &target) : target_(target) {}
    ~ReuseConnection();
    ReuseConnection(const ReuseConnection &) = delete;
    ReuseConnection &operator=(const ReuseConnection &) = delete;

    // One attempt to connect (or nothing when connected). False with `why` when it failed.
    bool open(std::string &why, long timeout_ms);
    bool is_open() const { return session_ != nullptr; }
    // What to poll for: the connection's socket, -1 when closed.
    int fd() const;
    short events() const;
    bool has_channels() const { return !runs_.empty(); }

    // Opens a channel for `job` and sends its command, on a fresh connection when there is
    // none (one attempt). When nothing could be sent the job is declined: the stub connects
    // itself. An exec request that failed ends the job with 255.
    void start(const std::shared_ptr<ReuseJob> &job);
    // After poll (or a job's news): reads the socket and moves every channel's bytes,
    // signals and ends. A connection found broken is closed: its commands end with 255.
    void service();

    // What the server's callbacks report about a channel's end.
    // libssh handles packets also inside calls for another channel (a read that finds nothing
    // buffered), so a channel's state can change after its turn: `changes` counts every callback,
    // and a round of turns is repeated until none came.
    struct Ending {
        int exit_code = -1;   // from exit-status or exit-signal; -1 while none came
        bool closed = false;  // the server's close arrived (unread output may still be buffered)
        bool unread = false;  // output is buffered in libssh, left there until the stub has room
        unsigned *changes = nullptr;
        ReuseJob *job = nullptr;  // where the output goes: the run owns it
    };

private:
    struct Run {
        std::shared_ptr<ReuseJob> job;
        ssh_channel channel = nullptr;
        ssh_channel_callbacks_struct callbacks{};
        Ending ending;
        bool eof_sent = false;
    };
    enum class Opened { Yes, NotSent, ExecFailed, ConnectionDead };
    Opened open_channel(Run &run, std::string &error);
    bool service_run(Run &run);
    bool read_output(Run &run);
    void lose_connection(const std::string &why);
    void end_run(Run &run, RunOutcome outcome);

    ConnectTarget target_;
    OwnedSession session_;
    ssh_event event_ = nullptr;
    std::vector<std::unique_ptr<Run>> runs_;
    unsigned changes_ = 0;
};

}  // namespace k8psh
