// One stub's command inside the reuse master, between the stub's relay thread and the
// connection thread: here the test is the connection thread, with real pipes, a real socket
// pair for the stub's control socket and the job's own relay thread.
#include "reuse_job.h"

#include "exit_codes.h"
#include "reuse_socket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace k8psh {
namespace {

using namespace std::chrono_literals;

struct Pipe {
    int read = -1;
    int write = -1;
    Pipe() {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) == 0) {
            read = fds[0];
            write = fds[1];
        }
    }
    ~Pipe() {
        close_read();
        close_write();
    }
    void close_read() {
        if (read >= 0) {
            close(read);
            read = -1;
        }
    }
    void close_write() {
        if (write >= 0) {
            close(write);
            write = -1;
        }
    }
};

// Everything a stub hands the master, and the connection thread's side of the wake-ups: the job
// calls wake() when it has news, the test waits for a condition between them (with a bound, and
// a re-check now and then so a condition the job does not announce still ends the wait).
class Stub {
public:
    // The stub's stdout and stderr are pipes, or copies of `out_fd` / `err_fd` when given.
    explicit Stub(int out_fd = -1, int err_fd = -1) {
        if (out_fd >= 0) {
            dup3(out_fd, out.write, O_CLOEXEC);
        }
        if (err_fd >= 0) {
            dup3(err_fd, err.write, O_CLOEXEC);
        }
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0) {
            control_ = fds[0];
            master_control_ = fds[1];
        }
        WireRequest request;
        request.exec = "cmd";
        RunIo io;
        io.in = in.read;
        io.out = out.write;
        io.err = err.write;
        io.control = master_control_;
        job = std::make_unique<ReuseJob>(request, io, [this] { wake(); });
    }
    ~Stub() {
        // A relay still running (a failed expectation) is ended the way a stub ends it.
        leave();
        if (relay_.joinable()) {
            relay_.join();
        }
        close(master_control_);
    }

    // The master's stub thread: waits for the verdict, then relays until the command ended.
    void start_relay() {
        relay_ = std::thread([this] {
            started = job->await_start() ? 1 : 0;
            if (started == 1) {
                outcome = job->relay();
            }
            done = true;
            wake();
        });
    }
    // Waits for the relay thread's end; false when it did not end within the bound.
    bool join_relay() {
        if (!wait_until([this] { return done.load(); })) {
            return false;
        }
        relay_.join();
        return true;
    }
    bool wait_until(const std::function<bool()> &condition, std::chrono::milliseconds bound = 10s) {
        auto deadline = std::chrono::steady_clock::now() + bound;
        std::unique_lock lock(mutex_);
        while (!condition()) {
            if (std::chrono::steady_clock::now() >= deadline) {
                return false;
            }
            wakes_.wait_for(lock, 20ms);
        }
        return true;
    }
    // What the master has sent the stub so far, without waiting ("" when nothing).
    std::string received() {
        char buffer[16];
        ssize_t n = recv(control_, buffer, sizeof buffer, MSG_DONTWAIT);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : "";
    }
    void send_signal(unsigned char number) { ASSERT_EQ(send(control_, &number, 1, MSG_NOSIGNAL), 1); }
    // The stub's end of its control socket closes: the stub is gone.
    void leave() {
        if (control_ >= 0) {
            close(control_);
            control_ = -1;
        }
    }

    Pipe in, out, err;
    std::unique_ptr<ReuseJob> job;
    std::atomic<int> started{-1};
    std::atomic<bool> done{false};
    RunOutcome outcome;

private:
    void wake() {
        std::lock_guard lock(mutex_);
        wakes_.notify_all();
    }
    int control_ = -1;
    int master_control_ = -1;
    std::mutex mutex_;
    std::condition_variable wakes_;
    std::thread relay_;
};

// A reader on its own thread that appends everything from `fd` to `into` until EOF.
std::thread drain_into(int fd, std::string &into) {
    return std::thread([fd, &into] {
        char buffer[65536];
        ssize_t n;
        while ((n = read(fd, buffer, sizeof buffer)) > 0) {
            into.append(buffer, static_cast<std::size_t>(n));
        }
    });
}

TEST(ReuseJob, AcceptingTellsTheStubAtOnce) {
    // From the accepting thread itself, before any relay thread runs: a master stopped right
    // after the exec went out has told the stub, which then never runs the command again.
    Stub stub;
    stub.job->accept();
    EXPECT_EQ(stub.received(), std::string(1, kAccepted));
    EXPECT_TRUE(stub.job->told());
    stub.job->accept();  // once only
    EXPECT_EQ(stub.received(), "");
}

TEST(ReuseJob, AwaitStartIsTrueOnceAccepted) {
    Stub stub;
    stub.start_relay();
    stub.job->accept();
    ASSERT_TRUE(stub.wait_until([&] { return stub.started != -1; }));
    EXPECT_EQ(stub.started.load(), 1);
    stub.job->finish({0, ""});
    ASSERT_TRUE(stub.join_relay());
    EXPECT_EQ(stub.outcome.code, 0);
}

TEST(ReuseJob, AwaitStartIsFalseWhenDeclined) {
    Stub stub;
    stub.start_relay();
    stub.job->decline();
    ASSERT_TRUE(stub.join_relay());
    EXPECT_EQ(stub.started.load(), 0);
    EXPECT_FALSE(stub.job->stub_gone());  // the stub is still there: it connects itself
    EXPECT_EQ(stub.received(), "");       // and was never told it was accepted
    EXPECT_FALSE(stub.job->told());
}

TEST(ReuseJob, AwaitStartIsTrueWhenFinishedWithoutAccept) {
    // An exec request that failed once sent ends the job at once: it may have run, so the stub
    // is told it was accepted and gets the code.
    Stub stub;
    stub.start_relay();
    stub.job->finish({exit_code::kConnection, "exec failed"});
    ASSERT_TRUE(stub.join_relay());
    EXPECT_EQ(stub.started.load(), 1);
    EXPECT_EQ(stub.received(), std::string(1, kAccepted));
    EXPECT_EQ(stub.outcome.code, exit_code::kConnection);
    EXPECT_EQ(stub.outcome.error, "exec failed");
}

TEST(ReuseJob, AStubLeavingBeforeTheVerdictIsGone) {
    Stub stub;
    stub.start_relay();
    stub.leave();
    ASSERT_TRUE(stub.join_relay());
    EXPECT_EQ(stub.started.load(), 0);
    EXPECT_TRUE(stub.job->stub_gone());
}

TEST(ReuseJob, OutputArrivesInOrderOnTheRightDescriptor) {
    Stub stub;
    std::string out, err;
    std::thread out_reader = drain_into(stub.out.read, out);
    std::thread err_reader = drain_into(stub.err.read, err);
    stub.start_relay();
    stub.job->accept();
    // Chunks of many sizes, stdout and stderr in an irregular order, 4 MiB in all: far more
    // than the job buffers, so the test keeps to output_room() as the connection thread does.
    std::string want_out, want_err;
    std::uint32_t state = 12345;
    for (int i = 0; i < 400; ++i) {
        state = state * 1103515245u + 12345u;
        bool is_stderr = (state >> 16) % 3 == 0;
        std::size_t size = 1 + (state >> 8) % 20000;
        std::string chunk(size, '\0');
        for (std::size_t j = 0; j < size; ++j) {
            chunk[j] = static_cast<char>('a' + (i + j) % 26);
        }
        chunk.replace(0, std::min(size, std::to_string(i).size()), std::to_string(i));
        ASSERT_TRUE(stub.wait_until([&] { return stub.job->output_room() >= size; })) << "no room at chunk " << i;
        stub.job->add_output(is_stderr, chunk.data(), chunk.size());
        (is_stderr ? want_err : want_out) += chunk;
    }
    stub.job->finish({42, ""});
    ASSERT_TRUE(stub.join_relay());
    EXPECT_EQ(stub.outcome.code, 42);
    stub.out.close_write();
    stub.err.close_write();
    out_reader.join();
    err_reader.join();
    EXPECT_EQ(out.size(), want_out.size());
    EXPECT_TRUE(out == want_out);
    EXPECT_EQ(err.size(), want_err.size());
    EXPECT_TRUE(err == want_err);
    EXPECT_FALSE(stub.job->output_failed());
}

TEST(ReuseJob, OutputAPipeTakesGoesOutBeforeAnyRelayRuns) {
    // The connection thread writes what the stub's pipe takes at once itself: no relay thread
    // runs here, yet the bytes are in the pipe when add_output returns. What the pipe cannot
    // take waits for the relay, in order, and the shared pipe never turns non-blocking.
    int probe[2];
    ASSERT_EQ(pipe2(probe, O_CLOEXEC), 0);
    iovec one{const_cast<char *>("x"), 1};
    bool nowait = pwritev2(probe[1], &one, 1, -1, RWF_NOWAIT) == 1;
    close(probe[0]);
    close(probe[1]);
    if (!nowait) {
        GTEST_SKIP() << "this kernel's pipes do not take RWF_NOWAIT (Linux 6.4 and later do)";
    }
    Stub stub;
    stub.job->accept();
    stub.job->add_output(false, "first ", 6);
    int queued = 0;
    ASSERT_EQ(ioctl(stub.out.read, FIONREAD, &queued), 0);
    ASSERT_EQ(queued, 6) << "the bytes did not reach the pipe without the relay";
    char buffer[64];
    ASSERT_EQ(read(stub.out.read, buffer, sizeof buffer), 6);
    EXPECT_EQ(std::string(buffer, 6), "first ");

    const int capacity = fcntl(stub.out.read, F_GETPIPE_SZ);
    ASSERT_GT(capacity, 0);
    std::string more(static_cast<std::size_t>(capacity) + 5000, 'm');
    stub.job->add_output(false, more.data(), more.size());  // more than the pipe holds: returns all the same
    stub.job->add_output(false, "last", 4);                 // behind the rest, never before it
    ASSERT_EQ(ioctl(stub.out.read, FIONREAD, &queued), 0);
    EXPECT_EQ(queued, capacity);
    EXPECT_EQ(fcntl(stub.out.write, F_GETFL) & O_NONBLOCK, 0);

    std::string got;
    std::thread reader = drain_into(stub.out.read, got);
    stub.start_relay();
    stub.job->finish({0, ""});
    ASSERT_TRUE(stub.join_relay());
    stub.out.close_write();
    reader.join();
    EXPECT_TRUE(got == more + "last");
}

TEST(ReuseJob, OutputToAFileAndASocketArrivesWhole) {
    // A regular file (which may not promise RWF_NOWAIT: then the relay writes it) and a socket
    // (MSG_DONTWAIT from the connection thread), each in order and complete.
    char path[] = "/tmp/k8psh-reuse-job-XXXXXX";
    int file = mkstemp(path);
    ASSERT_GE(file, 0);
    unlink(path);
    int sockets[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
    std::string from_socket;
    std::thread reader = drain_into(sockets[0], from_socket);
    std::string want_file, want_socket;
    {
        Stub stub(file, sockets[1]);
        close(sockets[1]);
        stub.start_relay();
        stub.job->accept();
        for (int i = 0; i < 300; ++i) {
            std::string chunk = std::to_string(i) + std::string(static_cast<std::size_t>(i) * 37 % 9000, 'a' + i % 26);
            bool is_stderr = i % 3 == 1;
            ASSERT_TRUE(stub.wait_until([&] { return stub.job->output_room() >= chunk.size(); }));
            stub.job->add_output(is_stderr, chunk.data(), chunk.size());
            (is_stderr ? want_socket : want_file) += chunk;
        }
        stub.job->finish({0, ""});
        ASSERT_TRUE(stub.join_relay());
        EXPECT_FALSE(stub.job->output_failed());
    }  // the stub's copies of the socket close here: the reader sees its end
    reader.join();
    std::string from_file(want_file.size() + 1, '\0');
    ssize_t n = pread(file, from_file.data(), from_file.size(), 0);
    close(file);
    close(sockets[0]);
    ASSERT_GE(n, 0);
    from_file.resize(static_cast<std::size_t>(n));
    EXPECT_TRUE(from_file == want_file) << from_file.size() << " bytes in the file, " << want_file.size() << " sent";
    EXPECT_TRUE(from_socket == want_socket)
        << from_socket.size() << " bytes by the socket, " << want_socket.size() << " sent";
}

// Fills the job's buffer and the pipe while nobody reads the stub's stdout, until the room is 0
// and the pipe full: then it stays 0 (the connection thread stops reading the channel).
void fill_until_no_room(Stub &stub, std::size_t &added) {
    const std::string chunk(8192, 'x');
    const int capacity = fcntl(stub.out.read, F_GETPIPE_SZ);
    ASSERT_GT(capacity, 0);
    ASSERT_TRUE(stub.wait_until([&] {
        std::size_t room = 0;
        while ((room = stub.job->output_room()) > 0) {
            std::size_t size = std::min(room, chunk.size());
            stub.job->add_output(false, chunk.data(), size);
            added += size;
        }
        int queued = 0;
        return ioctl(stub.out.read, FIONREAD, &queued) == 0 && queued == capacity;
    })) << "the room never reached 0 with the pipe full";
}

TEST(ReuseJob, OutputRoomReachesZeroWhileUnreadAndGrowsWhenRead) {
    Stub stub;
    stub.start_relay();
    stub.job->accept();
    std::size_t added = 0;
    fill_until_no_room(stub, added);
    EXPECT_EQ(stub.job->output_room(), 0u);
    EXPECT_GE(added, ReuseJob::kOutputLimit);  // the limit, plus what the pipe took meanwhile

    // The reader takes some: the relay writes on and announces the room.
    std::string got(256u << 10, '\0');
    std::size_t taken = 0;
    while (taken < got.size()) {
        ssize_t n = read(stub.out.read, got.data() + taken, got.size() - taken);
        ASSERT_GT(n, 0);
        taken += static_cast<std::size_t>(n);
    }
    EXPECT_TRUE(stub.wait_until([&] { return stub.job->output_room() > 0; }));
    EXPECT_EQ(got, std::string(got.size(), 'x'));

    stub.job->finish({0, ""});
    std::string rest;
    std::thread reader = drain_into(stub.out.read, rest);
    ASSERT_TRUE(stub.join_relay());
    stub.out.close_write();
    reader.join();
    EXPECT_EQ(taken + rest.size(), added);
}

TEST(ReuseJob, TheStubLeavingEndsARelayWithStalledOutput) {
    Stub stub;
    stub.start_relay();
    stub.job->accept();
    std::size_t added = 0;
    fill_until_no_room(stub, added);
    stub.leave();
    ASSERT_TRUE(stub.join_relay());
    EXPECT_EQ(stub.outcome.code, exit_code::kConnection);
    EXPECT_EQ(stub.outcome.error, "the stub went away");
    EXPECT_TRUE(stub.job->stub_gone());
    // Nobody takes the output any more: the connection thread drains the channel into nothing.
    EXPECT_GT(stub.job->output_room(), 0u);
    EXPECT_EQ(fcntl(stub.out.write, F_GETFL) & O_NONBLOCK, 0);  // the shared file stays blocking
}

TEST(ReuseJob, AReaderThatLeftFailsTheOutput) {
    signal(SIGPIPE, SIG_IGN);  // as in the master
    Stub stub;
    stub.start_relay();
    stub.job->accept();
    stub.out.close_read();
    stub.job->add_output(false, "lost", 4);
    ASSERT_TRUE(stub.wait_until([&] { return stub.job->output_failed(); }));
    EXPECT_FALSE(stub.job->stub_gone());
    EXPECT_GT(stub.job->output_room(), 0u);  // dropped from now on
    stub.job->add_output(false, "dropped", 7);
    stub.job->finish({exit_code::kSignalBase + SIGPIPE, ""});
    ASSERT_TRUE(stub.join_relay());
    EXPECT_EQ(stub.outcome.code, exit_code::kSignalBase + SIGPIPE);
}

TEST(ReuseJob, StdinArrivesThenItsEnd) {
    Stub stub;
    // More than the job holds at once, so reading waits for take_stdin to make room.
    std::string data(1u << 20, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<char>(i * 7 + i / 4096);
    }
    std::thread writer([&] {
        std::size_t written = 0;
        while (written < data.size()) {
            ssize_t n = write(stub.in.write, data.data() + written, data.size() - written);
            if (n <= 0) {
                break;
            }
            written += static_cast<std::size_t>(n);
        }
        stub.in.close_write();
    });
    stub.start_relay();
    stub.job->accept();
    std::string got;
    bool ended = false;
    bool bounded = true;
    EXPECT_TRUE(stub.wait_until([&] {
        std::string piece = stub.job->take_stdin(5000, ended);
        bounded = bounded && piece.size() <= 5000;
        got += piece;
        return ended;
    }));
    writer.join();
    EXPECT_TRUE(bounded);
    EXPECT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data);
    stub.job->finish({0, ""});
    ASSERT_TRUE(stub.join_relay());
}

TEST(ReuseJob, AnEmptyStdinEndsAtOnce) {
    Stub stub;
    stub.in.close_write();
    stub.start_relay();
    stub.job->accept();
    bool ended = false;
    std::string got;
    EXPECT_TRUE(stub.wait_until([&] {
        got += stub.job->take_stdin(1000, ended);
        return ended;
    }));
    EXPECT_EQ(got, "");
    stub.job->finish({0, ""});
    ASSERT_TRUE(stub.join_relay());
}

TEST(ReuseJob, SignalsArriveInOrderAlsoFromBeforeTheStart) {
    Stub stub;
    stub.start_relay();
    stub.send_signal(SIGUSR1);  // while the stub waits for its verdict: kept for the command
    std::vector<int> got;
    EXPECT_TRUE(stub.wait_until([&] {
        auto more = stub.job->take_signals();
        got.insert(got.end(), more.begin(), more.end());
        return !got.empty();
    }));
    stub.job->accept();
    stub.send_signal(SIGINT);
    stub.send_signal(SIGTERM);
    EXPECT_TRUE(stub.wait_until([&] {
        auto more = stub.job->take_signals();
        got.insert(got.end(), more.begin(), more.end());
        return got.size() >= 3;
    }));
    EXPECT_EQ(got, (std::vector<int>{SIGUSR1, SIGINT, SIGTERM}));
    EXPECT_TRUE(stub.job->take_signals().empty());  // each taken once
    EXPECT_FALSE(stub.job->stub_gone());
    stub.job->finish({exit_code::kSignalBase + SIGTERM, ""});
    ASSERT_TRUE(stub.join_relay());
    EXPECT_EQ(stub.outcome.code, exit_code::kSignalBase + SIGTERM);
}

}  // namespace
}  // namespace k8psh
