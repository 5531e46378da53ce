#pragma once
// One stub's command inside the reuse master (reuse_master.h), shared by two threads:
// - the stub's relay thread, the only one that waits on the stub's descriptors. They are the
//   stub's own stdin/stdout/stderr, blocking and shared with its shell and siblings, so waiting
//   on them may take for ever: only this thread ever waits there.
// - the connection thread (reuse_connection.h), the only one that touches the SSH session. It writes
//   output straight to the stub's descriptor when nothing waits before it and the descriptor
//   can promise not to block (MSG_DONTWAIT, RWF_NOWAIT), which saves a thread hop per chunk.
// Both directions are bounded. Output waits here until the stub takes it, and the connection
// thread stops reading a channel whose job is full, so the channel's SSH window shuts and only
// that command is held up. Stdin is read while fewer than kStdinLimit bytes wait for the window.
#include "run_request.h"
#include "sys.h"

#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace k8psh {

enum class OutputKind { Socket, Pipe, File, Other };

class ReuseJob {
public:
    static constexpr std::size_t kOutputLimit = 256u << 10;
    static constexpr std::size_t kStdinLimit = 256u << 10;

    // `wake_connection` tells the connection thread there is news (stdin, a signal, room for
    // output, the stub's end); it must be safe to call from any thread.
    ReuseJob(WireRequest request, RunIo io, std::function<void()> wake_connection);

    const WireRequest &request() const { return request_; }
    // A terminal job's terminal (for its size), -1 otherwise. Ours for the job's lifetime.
    int terminal() const { return terminal_.get(); }

    // The stub's thread, before anything else: waits for the connection thread's verdict. True
    // once the command's exec request went out (the stub is then told it was accepted). False
    // when nothing was sent (no connection to be had at once: the stub connects itself, with its
    // own retries and signals) or when the stub left first.
    bool await_start();

    // The relay thread: moves bytes and signals until the command ended and its output was
    // delivered, or until the stub went away. Returns how the command ended.
    RunOutcome relay();

    // The connection thread's side. accept() or decline() answer await_start(); finish() implies
    // accept() (an exec that failed once sent ends with 255, it may have run). Accepting sends
    // the stub its accept byte at once, from this thread: a stub not told would run the command
    // itself, so no window may lie between the exec going out and the byte (a master stopped by
    // SIGTERM then, before the relay thread got its turn, ran a command twice).
    void accept();
    // Whether the stub was told it was accepted (its result goes after that byte).
    bool told();
    void decline();
    std::size_t output_room();
    void add_output(bool is_stderr, const char *data, std::size_t size);
    // Up to `max` bytes of the stub's stdin; `ended` once stdin reached its end and all of it
    // was taken.
    std::string take_stdin(std::size_t max, bool &ended);
    std::vector<int> take_signals();
    bool stub_gone();
    bool output_failed();
    void finish(RunOutcome outcome);

private:
    struct Chunk {
        bool is_stderr;
        std::string bytes;
    };
    void wake_relay();
    void tell_accepted();  // with mutex_ held, while start_ is Waiting
    bool read_stdin();
    bool read_control();
    bool write_output(Chunk &chunk, std::size_t &written);
    std::size_t write_now(bool is_stderr, const char *data, std::size_t size, bool &failed);  // with mutex_ held

    const WireRequest request_;
    const RunIo io_;
    std::function<void()> wake_connection_;
    UniqueFd wake_;      // eventfd: the connection thread has news for the relay
    UniqueFd terminal_;  // a terminal job's terminal, a copy: the stub's thread closes its descriptors when it leaves
    const OutputKind out_kind_;  // how much a ready descriptor takes without blocking
    const OutputKind err_kind_;

    std::mutex mutex_;  // guards what follows
    enum class Start { Waiting, Accepted, Declined } start_ = Start::Waiting;
    std::deque<Chunk> output_;
    std::size_t output_bytes_ = 0;
    std::string stdin_;
    bool stdin_ended_ = false;
    std::vector<int> signals_;
    bool stub_gone_ = false;
    bool output_failed_ = false;  // EPIPE and the like: ends the command as SIGPIPE would a stub
    bool told_ = false;
    bool out_relay_only_ = false;  // the descriptor cannot write without waiting: see write_now()
    bool err_relay_only_ = false;
    bool finished_ = false;
    RunOutcome outcome_;
};

}  // namespace k8psh
