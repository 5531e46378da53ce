// One connection's life on a real k8pshd (server_connection): only the pod's key gets in, a silent
// connection is dropped after the login grace, an authenticated one without a command after
// connectionReuseMs plus the grace, a command gets a PTY when asked, and a client that vanishes
// hangs its command up (SIGHUP, then SIGKILL after the hang-up grace).
#include "argv_quoting.h"
#include "client_connection.h"
#include "remote_run.h"
#include "test_server.h"

#include <csignal>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <thread>

namespace k8psh {
namespace {

class ServerConnection : public ::testing::Test {
protected:
    void start(const std::vector<std::string> &arguments) {
        server_.add_arguments(arguments);
        K8PSH_START_TEST_SERVER(server_);
    }
    static bool started() { return !HasFatalFailure() && !IsSkipped(); }

    ConnectTarget target() const { return server_.target(); }

    // Runs `script` in a thread on its own connection; returns once the command has written its
    // first line (its pid), which it returns. The connection is `session_`; output goes to a pipe.
    pid_t start_command(const std::string &script) {
        session_ = connect_authenticated(target());
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) {
            return -1;
        }
        out_read_.reset(fds[0]);
        out_write_.reset(fds[1]);
        null_.reset(open("/dev/null", O_RDONLY | O_CLOEXEC));
        runner_ = std::thread([this, script] {
            WireRequest request;
            request.exec = quote_argv({"sh", "-c", script});
            RunIo io;
            io.in = null_.get();
            io.out = out_write_.get();
            io.err = out_write_.get();
            outcome_ = run_on_session(session_.get(), request, io, "srv");
        });
        std::string line;
        char c;
        while (read(out_read_.get(), &c, 1) == 1 && c != '\n') {
            line += c;
        }
        return static_cast<pid_t>(std::atol(line.c_str()));
    }

    // The client disappears without a goodbye (a SIGKILLed stub): its socket is shut down.
    void vanish() {
        shutdown(ssh_get_fd(session_.get()), SHUT_RDWR);
        if (runner_.joinable()) {
            runner_.join();
        }
    }

    // Reads `fd` (under an SSH session: the bytes are lost to it) until the server closes it or
    // `deadline` passes; whether it closed.
    static bool closed_by(int fd, Clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
            pollfd p{fd, POLLIN, 0};
            if (left <= 0 || poll(&p, 1, static_cast<int>(left)) != 1) {
                return false;
            }
            char buffer[4096];
            if (read(fd, buffer, sizeof buffer) <= 0) {
                return true;
            }
        }
    }

    // Whether process `pid` (not ours: the server's command) is gone within the bound.
    static bool gone_within(pid_t pid, int seconds) {
        const auto deadline = Clock::now() + std::chrono::seconds(seconds * test::time_scale());
        while (kill(pid, 0) == 0) {
            if (Clock::now() > deadline) {
                return false;
            }
            poll(nullptr, 0, 10);
        }
        return errno == ESRCH;
    }

    void TearDown() override {
        if (runner_.joinable()) {
            server_.stop();
            runner_.join();
        }
    }

    test::TestServer server_{{"sh /bin/sh"}};
    OwnedSession session_;
    UniqueFd out_read_;
    UniqueFd out_write_;
    UniqueFd null_;
    std::thread runner_;
    RunOutcome outcome_;
};

TEST_F(ServerConnection, OnlyThePodsKeyGetsIn) {
    start({});
    if (!started()) {
        return;
    }
    ConnectTarget where = target();
    // Connected (host key checked) but not yet authenticated: try what OpenSSH clients try.
    UnconnectedSession session(ssh_new());
    unsigned int port = static_cast<unsigned int>(where.port);
    int no = 0;
    ssh_options_set(session.get(), SSH_OPTIONS_HOST, "127.0.0.1");
    ssh_options_set(session.get(), SSH_OPTIONS_PORT, &port);
    ssh_options_set(session.get(), SSH_OPTIONS_USER, "k8psh");
    ssh_options_set(session.get(), SSH_OPTIONS_PROCESS_CONFIG, &no);
    ASSERT_EQ(ssh_connect(session.get()), SSH_OK) << ssh_get_error(session.get());
    EXPECT_EQ(ssh_userauth_none(session.get(), nullptr), SSH_AUTH_DENIED);
    EXPECT_EQ(ssh_userauth_password(session.get(), nullptr, "password"), SSH_AUTH_DENIED);
    EXPECT_EQ(ssh_userauth_kbdint(session.get(), nullptr, nullptr), SSH_AUTH_DENIED);
    // The methods offered afterwards: public key only.
    EXPECT_EQ(ssh_userauth_list(session.get(), nullptr), SSH_AUTH_METHOD_PUBLICKEY);
    ssh_disconnect(session.get());
}

TEST_F(ServerConnection, ASilentConnectionIsDroppedAfterTheLoginGrace) {
    start({"--login-grace-ms", "500"});
    if (!started()) {
        return;
    }
    UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(server_.port()));
    ASSERT_EQ(connect(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
    // Read the server's banner and everything after it until the server closes; a bound far
    // above the grace, far below the default 10 s would also be broken by a hang.
    const auto deadline = Clock::now() + std::chrono::seconds(8 * test::time_scale());
    std::string received;
    bool closed = false;
    while (!closed && Clock::now() < deadline) {
        pollfd p{fd.get(), POLLIN, 0};
        if (poll(&p, 1, 100) == 1) {
            char buffer[4096];
            const ssize_t n = read(fd.get(), buffer, sizeof buffer);
            closed = n <= 0;
            if (n > 0) {
                received.append(buffer, static_cast<std::size_t>(n));
            }
        }
    }
    EXPECT_TRUE(closed);
    EXPECT_EQ(received.rfind("SSH-2.0-", 0), 0u) << received;
}

// A reuse master keeps its authenticated connection open between commands for connectionReuseMs
// and then leaves: the server keeps such a connection that long plus the login grace.
TEST_F(ServerConnection, AnAuthenticatedConnectionMayIdleForTheReuseTimePlusTheGrace) {
    const int scale = test::time_scale();
    const auto grace = std::chrono::milliseconds(300 * scale);
    const auto reuse = std::chrono::milliseconds(700 * scale);
    server_.add_setting("connectionReuseMs = " + std::to_string(reuse.count()));
    start({"--login-grace-ms", std::to_string(grace.count())});
    if (!started()) {
        return;
    }
    // The server counts from its accept, which comes after this.
    const auto before = Clock::now();
    OwnedSession session = connect_authenticated(target());
    const int fd = ssh_get_fd(session.get());
    // The server never speaks first on an idle connection: any byte before the limit is its
    // goodbye. Quiet from here until well past the grace (whose clock started earlier, at the
    // accept), yet short of the limit unless the handshake took 500 ms.
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    EXPECT_EQ(poll(&p, 1, static_cast<int>((grace + std::chrono::milliseconds(200 * scale)).count())), 0)
        << "cut before connectionReuseMs + the login grace";
    EXPECT_TRUE(closed_by(fd, before + std::chrono::seconds(10 * scale))) << "still open after 10 s";
    EXPECT_GE(Clock::now() - before, reuse + grace);
    UnconnectedSession gone(session.release());  // the server has hung up: nobody to say goodbye to
}

// Without reuse (connectionReuseMs = 0) an authenticated connection is kept for the login grace.
TEST_F(ServerConnection, WithoutReuseAnAuthenticatedConnectionMayIdleForTheGrace) {
    const auto grace = std::chrono::milliseconds(300 * test::time_scale());
    server_.add_setting("connectionReuseMs = 0");
    start({"--login-grace-ms", std::to_string(grace.count())});
    if (!started()) {
        return;
    }
    const auto before = Clock::now();
    OwnedSession session = connect_authenticated(target());
    // A bound far above the grace, far below the default reuse time (30 s) plus the grace.
    EXPECT_TRUE(closed_by(ssh_get_fd(session.get()), before + std::chrono::seconds(8 * test::time_scale())));
    EXPECT_GE(Clock::now() - before, grace);
    UnconnectedSession gone(session.release());
}

TEST_F(ServerConnection, APtyIsGivenWhenAsked) {
    start({});
    if (!started()) {
        return;
    }
    OwnedSession session = connect_authenticated(target());
    test::TempDir dir;
    UniqueFd in(open("/dev/null", O_RDONLY | O_CLOEXEC));
    UniqueFd out(open((dir / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    UniqueFd err(open((dir / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    WireRequest request;
    request.tty = true;
    request.exec = quote_argv({"sh", "-c", "test -t 0 && test -t 1 && test -t 2 && echo terminal; echo err >&2"});
    RunIo io;
    io.in = in.get();
    io.out = out.get();
    io.err = err.get();
    const RunOutcome outcome = run_on_session(session.get(), request, io, "srv");
    EXPECT_EQ(outcome.code, 0);
    // One terminal: stderr arrives on stdout, with the terminal's line endings.
    EXPECT_EQ(test::read_file(dir / "out"), "terminal\r\nerr\r\n");
    EXPECT_EQ(test::read_file(dir / "err"), "");
}

TEST_F(ServerConnection, AVanishedClientsCommandIsHungUp) {
    start({});
    if (!started()) {
        return;
    }
    const pid_t pid = start_command("echo $$; exec sleep 60");
    ASSERT_GT(pid, 0);
    ASSERT_EQ(kill(pid, 0), 0);
    vanish();
    EXPECT_TRUE(gone_within(pid, 20));
}

TEST_F(ServerConnection, AHangupImmuneCommandIsStillEndedAfterTheGrace) {
    start({"--hangup-grace-ms", "300"});
    if (!started()) {
        return;
    }
    const pid_t pid = start_command("trap '' HUP; echo $$; exec sleep 60");
    ASSERT_GT(pid, 0);
    ASSERT_EQ(kill(pid, 0), 0);
    vanish();
    EXPECT_TRUE(gone_within(pid, 20));
}

}  // namespace
}  // namespace k8psh
