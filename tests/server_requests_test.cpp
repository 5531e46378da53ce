// What the server does with a session channel's requests, seen from a real SSH client on a real
// k8pshd: a configured command runs (the later of two definitions), everything else is refused
// with exit code and one "k8psh: …" line on stderr that says what may be run: no shell, no
// subsystem, unknown commands, unsplittable command lines, working directories outside the base,
// missing executables; and several commands on one connection.
#include "argv_quoting.h"
#include "client_connection.h"
#include "exit_codes.h"
#include "remote_run.h"
#include "test_server.h"
#include "wire.h"

#include <fcntl.h>
#include <functional>
#include <gtest/gtest.h>

namespace k8psh {
namespace {

struct Result {
    int code = -1;
    std::string out;
    std::string err;
};

class ServerRequests : public ::testing::Test {
protected:
    void SetUp() override { K8PSH_START_TEST_SERVER(server_); }

    OwnedSession connect() { return connect_authenticated(server_.target()); }

    // One request through the stub's own code path (stdin empty, streams to files).
    Result run(const WireRequest &request) {
        OwnedSession session = connect();
        const std::string in = dir_ / "in";
        const std::string out = dir_ / "out";
        const std::string err = dir_ / "err";
        test::write_file(in, "");
        RunIo io;
        UniqueFd in_fd(open(in.c_str(), O_RDONLY | O_CLOEXEC));
        UniqueFd out_fd(open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        UniqueFd err_fd(open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        io.in = in_fd.get();
        io.out = out_fd.get();
        io.err = err_fd.get();
        const RunOutcome outcome = run_on_session(session.get(), request, io, "srv");
        return {outcome.code, test::read_file(out), test::read_file(err)};
    }

    Result run(const std::vector<std::string> &argv, const std::string &cwd = "") {
        WireRequest request;
        request.exec = quote_argv(argv);
        if (!cwd.empty()) {
            request.env.emplace_back(wire::kCwdName, cwd);
        }
        return run(request);
    }

    // A request the stub never makes (a shell, a subsystem), with plain blocking libssh calls.
    Result run_raw(const std::function<int(ssh_channel)> &request) {
        OwnedSession session = connect();
        Result result;
        ssh_channel channel = ssh_channel_new(session.get());
        if (channel == nullptr || ssh_channel_open_session(channel) != SSH_OK || request(channel) != SSH_OK) {
            ADD_FAILURE() << "request not accepted: " << ssh_get_error(session.get());
            ssh_channel_free(channel);
            return result;
        }
        char buffer[4096];
        for (int is_stderr : {0, 1}) {
            int n;
            while ((n = ssh_channel_read(channel, buffer, sizeof buffer, is_stderr)) > 0) {
                (is_stderr != 0 ? result.err : result.out).append(buffer, static_cast<std::size_t>(n));
            }
        }
        result.code = ssh_channel_get_exit_status(channel);
        ssh_channel_close(channel);
        ssh_channel_free(channel);
        return result;
    }

    test::TestServer server_{
        {"sh /bin/sh", "tool /bin/echo first", "cat /bin/cat", "tool /bin/echo second", "missing /nonexistent/tool"}};
    test::TempDir dir_;
};

const char *const kAllowed = "sh, cat, tool, missing";

TEST_F(ServerRequests, AConfiguredCommandRunsWithItsArguments) {
    const Result result = run({"sh", "-c", "echo \"$0|$1\"; exit 6", "zero", "one two"});
    EXPECT_EQ(result.code, 6);
    EXPECT_EQ(result.out, "zero|one two\n");
    EXPECT_EQ(result.err, "");
}

TEST_F(ServerRequests, TheLaterOfTwoDefinitionsWins) {
    const Result result = run({"tool", "arg"});
    EXPECT_EQ(result.code, 0);
    EXPECT_EQ(result.out, "second arg\n");
}

TEST_F(ServerRequests, NoShellHere) {
    const Result empty = run(std::vector<std::string>{});
    EXPECT_EQ(empty.code, exit_code::kUnknownCommand);
    EXPECT_EQ(empty.err, std::string("k8psh: no shell here; run one of: ") + kAllowed + "\n");

    const Result shell = run_raw([](ssh_channel channel) { return ssh_channel_request_shell(channel); });
    EXPECT_EQ(shell.code, exit_code::kUnknownCommand);
    EXPECT_EQ(shell.err, std::string("k8psh: no shell here; run one of: ") + kAllowed + "\n");
    EXPECT_EQ(shell.out, "");
}

TEST_F(ServerRequests, NoSubsystems) {
    const Result sftp = run_raw([](ssh_channel channel) { return ssh_channel_request_subsystem(channel, "sftp"); });
    EXPECT_EQ(sftp.code, exit_code::kUnknownCommand);
    EXPECT_EQ(sftp.err, std::string("k8psh: no subsystems here (sftp); run one of: ") + kAllowed + "\n");
}

TEST_F(ServerRequests, AnUnknownCommandNamesTheServerAndTheAllowedOnes) {
    const Result result = run({"gcc", "--version"});
    EXPECT_EQ(result.code, exit_code::kUnknownCommand);
    EXPECT_EQ(result.err, std::string("k8psh: unknown command 'gcc' on server 'srv'; allowed: ") + kAllowed + "\n");
    EXPECT_EQ(result.out, "");
}

TEST_F(ServerRequests, AnUnsplittableCommandLineIsAUsageError) {
    WireRequest request;
    request.exec = "sh -c 'never closed";
    const Result result = run(request);
    EXPECT_EQ(result.code, exit_code::kUsage);
    EXPECT_EQ(result.err.rfind("k8psh: cannot split command line: ", 0), 0u) << result.err;
}

TEST_F(ServerRequests, AWorkingDirectoryEscapingTheBaseIsRefused) {
    const Result result = run({"sh", "-c", "pwd"}, "../elsewhere");
    EXPECT_EQ(result.code, exit_code::kUsage);
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err.rfind("k8psh: ", 0), 0u) << result.err;
    EXPECT_NE(result.err.find("../elsewhere"), std::string::npos) << result.err;
}

TEST_F(ServerRequests, AMissingExecutableCannotExecute) {
    if (std::getenv("K8PSH_EMULATED") != nullptr) {
        GTEST_SKIP() << "under qemu-user posix_spawn does not report exec failures (no message)";
    }
    const Result result = run({"missing"});
    EXPECT_EQ(result.code, exit_code::kUnknownCommand);
    EXPECT_EQ(result.err.rfind("k8psh: cannot execute '/nonexistent/tool' in ", 0), 0u) << result.err;
}

TEST_F(ServerRequests, SeveralCommandsShareOneConnection) {
    OwnedSession session = connect();
    auto open_exec = [&](const char *command) {
        ssh_channel channel = ssh_channel_new(session.get());
        EXPECT_EQ(ssh_channel_open_session(channel), SSH_OK) << ssh_get_error(session.get());
        EXPECT_EQ(ssh_channel_request_exec(channel, command), SSH_OK) << ssh_get_error(session.get());
        return channel;
    };
    auto finish = [](ssh_channel channel) {
        std::string out;
        char buffer[256];
        int n;
        while ((n = ssh_channel_read(channel, buffer, sizeof buffer, 0)) > 0) {
            out.append(buffer, static_cast<std::size_t>(n));
        }
        const int code = ssh_channel_get_exit_status(channel);
        ssh_channel_close(channel);
        ssh_channel_free(channel);
        return std::to_string(code) + " " + out;
    };
    // Two at once: b ends while a still waits for its stdin, so neither waits for the other.
    ssh_channel a = open_exec("sh -c 'read line; echo a:$line; exit 3'");
    ssh_channel b = open_exec("sh -c 'echo b; exit 4'");
    EXPECT_EQ(finish(b), "4 b\n");
    EXPECT_EQ(ssh_channel_write(a, "x\n", 2), 2);
    ssh_channel_send_eof(a);
    EXPECT_EQ(finish(a), "3 a:x\n");
    // And another after both have ended, on the same connection.
    EXPECT_EQ(finish(open_exec("tool again")), "0 second again\n");
}

}  // namespace
}  // namespace k8psh
