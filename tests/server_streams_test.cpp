// The bytes between a command and its client on a real k8pshd (server_streams): megabytes of
// stdin and of stdout and stderr at once, byte for byte; one pipe for both streams when the
// client asks (`2>&1`), in the command's own order; a command that closes its stdout early; and
// a reader that goes away, which ends the command instead of leaving it writing.
#include "argv_quoting.h"
#include "client_connection.h"
#include "remote_run.h"
#include "test_server.h"
#include "wire.h"

#include <csignal>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <random>

namespace k8psh {
namespace {

class ServerStreams : public ::testing::Test {
protected:
    void SetUp() override { K8PSH_START_TEST_SERVER(server_); }

    OwnedSession connect() { return connect_authenticated(server_.target()); }

    // Runs `argv` with stdin from the file `in` ("" for none); stdout and stderr to files.
    RunOutcome run(const std::vector<std::string> &argv, const std::string &in = "", bool merge = false) {
        OwnedSession session = connect();
        WireRequest request;
        request.exec = quote_argv(argv);
        if (merge) {
            request.env.emplace_back(wire::kMergeStderrName, "1");
        }
        UniqueFd in_fd(open(in.empty() ? "/dev/null" : in.c_str(), O_RDONLY | O_CLOEXEC));
        UniqueFd out_fd(open((dir_ / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        UniqueFd err_fd(open((dir_ / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        RunIo io;
        io.in = in_fd.get();
        io.out = out_fd.get();
        io.err = err_fd.get();
        return run_on_session(session.get(), request, io, "srv");
    }

    std::string out() const { return test::read_file(dir_ / "out"); }
    std::string err() const { return test::read_file(dir_ / "err"); }

    // A file of `size` random bytes (every byte value), returned with its content.
    std::string random_file(const std::string &name, std::size_t size) {
        std::mt19937 random(12345);
        std::string data(size, '\0');
        for (char &c : data) {
            c = static_cast<char>(random() & 0xff);
        }
        test::write_file(dir_ / name, data);
        return data;
    }

    test::TestServer server_{{"sh /bin/sh", "cat /bin/cat"}};
    test::TempDir dir_;
};

TEST_F(ServerStreams, MegabytesOfStdinArriveWhole) {
    const std::string data = random_file("input", 8u << 20);
    const RunOutcome outcome = run({"cat"}, dir_ / "input");
    EXPECT_EQ(outcome.code, 0) << outcome.error;
    const std::string received = out();
    EXPECT_EQ(received.size(), data.size());
    EXPECT_TRUE(received == data);
}

TEST_F(ServerStreams, StdoutAndStderrAtOnceArriveWholeAndApart) {
    const std::string data = random_file("data", 4u << 20);
    const RunOutcome outcome = run({"sh", "-c", "cat \"$1\" & cat \"$1\" >&2; wait", "sh", dir_ / "data"});
    EXPECT_EQ(outcome.code, 0) << outcome.error;
    const std::string stdout_data = out();
    const std::string stderr_data = err();
    EXPECT_EQ(stdout_data.size(), data.size());
    EXPECT_EQ(stderr_data.size(), data.size());
    EXPECT_TRUE(stdout_data == data);
    EXPECT_TRUE(stderr_data == data);
}

TEST_F(ServerStreams, MergedStreamsKeepTheCommandsOrder) {
    const std::string script = "i=0; while [ $i -lt 500 ]; do echo o$i; echo e$i >&2; i=$((i + 1)); done";
    const RunOutcome outcome = run({"sh", "-c", script}, "", true);
    EXPECT_EQ(outcome.code, 0) << outcome.error;
    std::string expected;
    for (int i = 0; i < 500; ++i) {
        const std::string number = std::to_string(i);
        expected.append("o").append(number).append("\ne").append(number).append("\n");
    }
    EXPECT_EQ(out(), expected);
    EXPECT_EQ(err(), "");
}

TEST_F(ServerStreams, ACommandClosingStdoutEarlyStillReportsItsCode) {
    const RunOutcome outcome = run({"sh", "-c", "echo before; exec >&-; echo still >&2; exit 7"});
    EXPECT_EQ(outcome.code, 7) << outcome.error;
    EXPECT_EQ(out(), "before\n");
    EXPECT_EQ(err(), "still\n");
}

// The client's stdout is a pipe whose reader is gone: the run ends as a local writer would
// (128+SIGPIPE) and the command, which would write forever, is ended by the server.
TEST_F(ServerStreams, AReaderThatGoesAwayEndsTheCommand) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    close(fds[0]);
    UniqueFd out(fds[1]);
    UniqueFd in(open("/dev/null", O_RDONLY | O_CLOEXEC));
    UniqueFd err(open((dir_ / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    struct sigaction ignore {
    }, previous{};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &previous);
    RunOutcome outcome;
    {
        OwnedSession session = connect();
        WireRequest request;
        // The pid goes to a file: on stderr it could be dropped with the output after the break.
        request.exec = quote_argv({"sh", "-c", "echo $$ > \"$1\"; exec cat /dev/zero", "sh", dir_ / "pid"});
        RunIo io;
        io.in = in.get();
        io.out = out.get();
        io.err = err.get();
        outcome = run_on_session(session.get(), request, io, "srv");
    }
    sigaction(SIGPIPE, &previous, nullptr);
    EXPECT_EQ(outcome.code, 128 + SIGPIPE);
    const pid_t pid = static_cast<pid_t>(std::atol(test::read_file(dir_ / "pid").c_str()));
    ASSERT_GT(pid, 0);
    const auto deadline = Clock::now() + std::chrono::seconds(20 * test::time_scale());
    while (kill(pid, 0) == 0 && Clock::now() < deadline) {
        poll(nullptr, 0, 10);
    }
    EXPECT_NE(kill(pid, 0), 0) << "the command still runs";
}

}  // namespace
}  // namespace k8psh
