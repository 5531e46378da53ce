// One command on an authenticated session against a real k8pshd: the exit code (also 128+N
// for a signal), stdout and stderr kept apart, stdin up to its end, a long command line in
// pieces, env requests ahead of the exec, signals forwarded from the control descriptor, and a
// server that vanishes before the exit status.
#include "remote_run.h"

#include "argv_quoting.h"
#include "client_connection.h"
#include "test_server.h"
#include "wire.h"

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <thread>

namespace k8psh {
namespace {

// The request a stub sends for `argv` (without a working directory).
WireRequest request_for(const std::vector<std::string> &argv) {
    WireRequest request;
    wire::ExecPieces pieces = wire::split_exec(quote_argv(argv));
    for (auto &part : pieces.parts) {
        request.env.emplace_back(wire::kArgvPartName, std::move(part));
    }
    request.exec = std::move(pieces.tail);
    return request;
}

WireRequest shell(const std::string &script) {
    return request_for({"sh", "-c", script});
}

class RemoteRun : public ::testing::Test {
protected:
    void SetUp() override {
        K8PSH_START_TEST_SERVER(server_);
        session_ = connect_authenticated(server_.target());
        // The command's streams go to files, so no pipe fills while the run is in progress.
        in_.reset(open(path("stdin").c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        out_.reset(open(path("stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        err_.reset(open(path("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        ASSERT_GE(in_.get(), 0);
        ASSERT_GE(out_.get(), 0);
        ASSERT_GE(err_.get(), 0);
    }

    std::string path(const std::string &name) const { return dir_ / name; }
    std::string stdout_text() const { return test::read_file(path("stdout")); }
    std::string stderr_text() const { return test::read_file(path("stderr")); }

    RunIo io() const {
        RunIo io;
        io.in = in_.get();
        io.out = out_.get();
        io.err = err_.get();
        return io;
    }

    RunOutcome run(const WireRequest &request) { return run_on_session(session_.get(), request, io(), "srv"); }

    test::TestServer server_{{"sh /bin/sh", "cat /bin/cat"}};
    test::TempDir dir_;
    OwnedSession session_;
    UniqueFd in_;
    UniqueFd out_;
    UniqueFd err_;
};

TEST_F(RemoteRun, TheCommandsExitCodeComesBack) {
    const RunOutcome outcome = run(shell("exit 42"));
    EXPECT_EQ(outcome.code, 42);
    EXPECT_EQ(outcome.error, "");
}

TEST_F(RemoteRun, ASignalEndingTheCommandIs128PlusN) {
    EXPECT_EQ(run(shell("kill -TERM $$")).code, 128 + SIGTERM);
}

TEST_F(RemoteRun, StdoutAndStderrStayApart) {
    const RunOutcome outcome = run(shell("echo out1; echo err1 >&2; echo out2; echo err2 >&2"));
    EXPECT_EQ(outcome.code, 0);
    EXPECT_EQ(stdout_text(), "out1\nout2\n");
    EXPECT_EQ(stderr_text(), "err1\nerr2\n");
}

TEST_F(RemoteRun, StdinIsDeliveredToItsEnd) {
    std::string input;
    for (int i = 0; i < 20000; ++i) {
        input += "line " + std::to_string(i) + "\n";
    }
    ASSERT_TRUE(write_all(in_.get(), input.data(), input.size()));
    ASSERT_EQ(lseek(in_.get(), 0, SEEK_SET), 0);
    // `cat` ends only when stdin's end arrives; the echo after it shows that it did.
    const RunOutcome outcome = run(shell("cat; echo end >&2"));
    EXPECT_EQ(outcome.code, 0);
    EXPECT_EQ(stdout_text().size(), input.size());
    EXPECT_TRUE(stdout_text() == input);
    EXPECT_EQ(stderr_text(), "end\n");
}

TEST_F(RemoteRun, AnEmptyStdinIsAnImmediateEnd) {
    const RunOutcome outcome = run(request_for({"cat"}));
    EXPECT_EQ(outcome.code, 0);
    EXPECT_EQ(stdout_text(), "");
}

TEST_F(RemoteRun, ALongCommandLineArrivesWhole) {
    std::string big(3 * wire::kArgvPartBytes + 1234, 'x');
    for (std::size_t i = 0; i < big.size(); i += 97) {
        big[i] = static_cast<char>('a' + i % 26);
    }
    const WireRequest request = request_for({"sh", "-c", "printf %s \"$1\"", "sh", big});
    ASSERT_GE(request.env.size(), 3u);  // it really went in pieces
    const RunOutcome outcome = run(request);
    EXPECT_EQ(outcome.code, 0);
    EXPECT_EQ(stdout_text().size(), big.size());
    EXPECT_TRUE(stdout_text() == big);
}

TEST_F(RemoteRun, AnUnknownCommandIs127) {
    const RunOutcome outcome = run(request_for({"gcc", "--version"}));
    EXPECT_EQ(outcome.code, 127);
    EXPECT_NE(stderr_text().find("gcc"), std::string::npos) << stderr_text();
}

// The env requests go ahead of the exec: the working directory below baseDirectory (here the
// configuration's directory) is one of them.
TEST_F(RemoteRun, EnvRequestsArriveBeforeTheCommandStarts) {
    const std::string base = std::filesystem::canonical(server_.dir().path()).string();
    std::filesystem::create_directories(base + "/src/lib");
    WireRequest request = shell("pwd");
    request.env.insert(request.env.begin(), {wire::kCwdName, "src/lib"});
    const RunOutcome outcome = run(request);
    EXPECT_EQ(outcome.code, 0) << stderr_text();
    EXPECT_EQ(stdout_text(), base + "/src/lib\n");
}

// A signal number written to the control descriptor (the stub's self-pipe) reaches the
// command. The command says when it runs through a pipe, so the signal is sent only then.
TEST_F(RemoteRun, SignalsFromTheControlDescriptorReachTheCommand) {
    int output[2];
    int control[2];
    ASSERT_EQ(pipe2(output, O_CLOEXEC), 0);
    UniqueFd output_read(output[0]);
    UniqueFd output_write(output[1]);
    ASSERT_EQ(pipe2(control, O_CLOEXEC | O_NONBLOCK), 0);
    UniqueFd control_read(control[0]);
    UniqueFd control_write(control[1]);

    RunIo io = this->io();
    io.out = output_write.get();
    io.control = control_read.get();
    RunOutcome outcome;
    std::thread runner(
        [&] { outcome = run_on_session(session_.get(), shell("echo ready; exec sleep 60"), io, "srv"); });
    char ready[6] = {};
    const bool started = read_all(output_read.get(), ready, sizeof ready);
    const unsigned char signal = SIGUSR1;
    (void)!write(control_write.get(), &signal, 1);
    runner.join();
    ASSERT_TRUE(started);
    EXPECT_EQ(std::string(ready, sizeof ready), "ready\n");
    EXPECT_EQ(outcome.code, 128 + SIGUSR1);
}

// The server goes away while the command runs: no exit status arrives, and the error line
// names the server.
TEST_F(RemoteRun, AVanishedServerIsAConnectionError) {
    int output[2];
    ASSERT_EQ(pipe2(output, O_CLOEXEC), 0);
    UniqueFd output_read(output[0]);
    UniqueFd output_write(output[1]);
    RunIo io = this->io();
    io.out = output_write.get();
    RunOutcome outcome;
    // `read` waits on the command's stdin, which ends when the server is gone, so nothing outlives the test.
    int input[2];
    ASSERT_EQ(pipe2(input, O_CLOEXEC), 0);
    UniqueFd input_read(input[0]);
    UniqueFd input_write(input[1]);
    io.in = input_read.get();
    std::thread runner([&] { outcome = run_on_session(session_.get(), shell("echo ready; read line"), io, "srv"); });
    char ready[6] = {};
    const bool started = read_all(output_read.get(), ready, sizeof ready);
    server_.kill_now();
    runner.join();
    ASSERT_TRUE(started);
    EXPECT_EQ(outcome.code, 255);
    EXPECT_NE(outcome.error.find("server 'srv'"), std::string::npos) << outcome.error;
}

}  // namespace
}  // namespace k8psh
