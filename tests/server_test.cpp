// The server's life as a whole (run_server) with a real k8pshd and real clients: it writes its
// pid file and removes it, ends after -m commands or --idle-timeout by itself with 0, passes
// SIGTERM on to running commands whose exit codes still reach their clients, and with
// --max-sessions 1 a second command waits until the first has ended.
#include "argv_quoting.h"
#include "client_connection.h"
#include "remote_run.h"
#include "test_server.h"

#include <csignal>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <thread>

namespace k8psh {
namespace {

class Server : public ::testing::Test {
protected:
    // Starts the server with `arguments`; a fatal failure, or a skip under emulation, when it
    // cannot run (the test then checks started()).
    void start(const std::vector<std::string> &arguments) {
        server_.add_arguments(arguments);
        K8PSH_START_TEST_SERVER(server_);
    }
    static bool started() { return !HasFatalFailure() && !IsSkipped(); }

    OwnedSession connect() { return connect_authenticated(server_.target()); }

    // Runs `script` with stdin from `in` and stdout to `out`; stderr goes to a file.
    RunOutcome run(const std::string &script, int in, int out) {
        OwnedSession session = connect();
        WireRequest request;
        request.exec = quote_argv({"sh", "-c", script});
        UniqueFd err(open((dir_ / "stderr").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        RunIo io;
        io.in = in;
        io.out = out;
        io.err = err.get();
        return run_on_session(session.get(), request, io, "srv");
    }

    int null_in() {
        null_.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
        return null_.get();
    }

    struct Pipe {
        UniqueFd read;
        UniqueFd write;
    };
    static Pipe make_pipe() {
        int fds[2] = {-1, -1};
        if (pipe2(fds, O_CLOEXEC) != 0) {
            return {};
        }
        return {UniqueFd(fds[0]), UniqueFd(fds[1])};
    }

    // Reads the 6 bytes "ready\n" a command writes when it runs.
    static bool ready(int fd) {
        char text[6] = {};
        return read_all(fd, text, sizeof text) && std::string(text, sizeof text) == "ready\n";
    }

    test::TestServer server_{{"sh /bin/sh"}};
    test::TempDir dir_;
    UniqueFd null_;
};

TEST_F(Server, ThePidFileNamesTheServerWhileItRuns) {
    const std::string pidfile = dir_ / "k8pshd.pid";
    start({"-p", pidfile});
    if (!started()) {
        return;
    }
    // In the foreground the file follows the listening socket: looked for with a bound (nothing
    // tells us when another process writes a file).
    const auto deadline = Clock::now() + std::chrono::seconds(20 * test::time_scale());
    while (test::read_file(pidfile).empty() && Clock::now() < deadline) {
        poll(nullptr, 0, 10);
    }
    EXPECT_EQ(test::read_file(pidfile), std::to_string(server_.pid()) + "\n");
    server_.signal(SIGTERM);
    const int status = server_.wait_exit(20);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    EXPECT_FALSE(std::filesystem::exists(pidfile));
}

TEST_F(Server, MaxConnectionsEndsTheServerAfterItsCommands) {
    start({"-m", "2"});
    if (!started()) {
        return;
    }
    Pipe out = make_pipe();
    EXPECT_EQ(run("echo one", null_in(), out.write.get()).code, 0);
    EXPECT_EQ(server_.wait_exit(0), -1);  // still serving after one
    EXPECT_EQ(run("echo two", null_in(), out.write.get()).code, 0);
    const int status = server_.wait_exit(20);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    char text[8] = {};
    ASSERT_TRUE(read_all(out.read.get(), text, sizeof text));
    EXPECT_EQ(std::string(text, sizeof text), "one\ntwo\n");
}

TEST_F(Server, AnIdleServerEndsByItself) {
    // Long enough that the server is seen listening first even on a busy machine.
    start({"--idle-timeout", "2000"});
    if (!started()) {
        return;
    }
    const int status = server_.wait_exit(20);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    const std::string log = test::read_file(server_.log_path());
    EXPECT_NE(log.find("idle for 2000 ms, exiting"), std::string::npos) << log;
}

// SIGTERM to the server while a command runs: the command gets SIGTERM, its client its exit
// code (143), and then the server ends with 0.
TEST_F(Server, SigtermReachesRunningCommandsAndTheirCodesTheClients) {
    start({});
    if (!started()) {
        return;
    }
    Pipe out = make_pipe();
    RunOutcome outcome;
    std::thread client([&] { outcome = run("echo ready; exec sleep 60", null_in(), out.write.get()); });
    const bool started = ready(out.read.get());
    server_.signal(SIGTERM);
    client.join();
    ASSERT_TRUE(started);
    EXPECT_EQ(outcome.code, 128 + SIGTERM) << outcome.error;
    const int status = server_.wait_exit(20);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

// The first command holds the only slot until its stdin ends; the second starts only then.
TEST_F(Server, MaxSessionsMakesASecondCommandWait) {
    start({"--max-sessions", "1"});
    if (!started()) {
        return;
    }
    Pipe first_in = make_pipe();
    Pipe first_out = make_pipe();
    Pipe second_out = make_pipe();
    RunOutcome first;
    RunOutcome second;
    std::thread first_client(
        [&] { first = run("echo ready; cat >/dev/null", first_in.read.get(), first_out.write.get()); });
    const bool first_started = ready(first_out.read.get());
    std::thread second_client([&] { second = run("echo ready", null_in(), second_out.write.get()); });
    // While the first runs, the second shows nothing, however long we look (1 s here); only a
    // broken limit could make it appear.
    pollfd p{second_out.read.get(), POLLIN, 0};
    const int before = poll(&p, 1, 1000);
    first_in.write.reset();  // the first command's stdin ends: it finishes and frees the slot
    const bool second_started = ready(second_out.read.get());
    first_client.join();
    second_client.join();
    ASSERT_TRUE(first_started);
    EXPECT_EQ(before, 0) << "the second command ran while the first held the only slot";
    EXPECT_TRUE(second_started);
    EXPECT_EQ(first.code, 0);
    EXPECT_EQ(second.code, 0);
}

}  // namespace
}  // namespace k8psh
