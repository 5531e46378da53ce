// The client face end to end against a real k8pshd: run_remote as a stub runs it, in a forked
// child whose stdin, stdout, stderr and working directory are the test's files (it installs
// signal handlers and uses fds 0-2, so never in the test process itself). The argv arrives byte
// for byte, the working directory maps below baseDirectory, `2>&1` keeps the command's order,
// signals reach the command, k8psh's own failures have their codes; and --check's report.
#include "client.h"

#include "exit_codes.h"
#include "log.h"
#include "test_server.h"

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>
#include <iostream>

namespace k8psh {
namespace {

class Client : public ::testing::Test {
protected:
    void SetUp() override {
        test::write_file(server_.dir() / "argdump", "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done\n");
        ASSERT_EQ(chmod((server_.dir() / "argdump").c_str(), 0755), 0);
        server_.add_command("argdump " + (server_.dir() / "argdump"));
        K8PSH_START_TEST_SERVER(server_);
        config_ = load_config(server_.dir() / "k8psh.conf");
        // No reuse master: it would outlive the test as a detached process.
        config_.connection_reuse_ms = 0;
        base_ = config_.base_directory;
    }

    ClientRequest request(const std::string &command, const std::vector<std::string> &args) {
        ClientRequest request;
        request.config = &config_;
        request.command = config_.find_command(command, &request.section);
        request.args = args;
        request.key_directory = server_.key_directory();
        request.tty = TtyMode::Never;
        return request;
    }

    struct Stub {
        pid_t pid = -1;
    };

    // Starts run_remote in a child: stdin from `in`, stdout and stderr to `out`/`err` (the same
    // path: one open file, like `>f 2>&1`), working directory `cwd`.
    Stub start(const ClientRequest &request, const std::string &cwd, int out_fd = -1) {
        const std::string in = dir_ / "stdin";
        const std::string out = dir_ / "stdout";
        const std::string err = merged_ ? out : dir_ / "stderr";
        if (!std::filesystem::exists(in)) {
            test::write_file(in, "");
        }
        std::cout.flush();
        const pid_t pid = fork();
        if (pid == 0) {
            const int in_fd = open(in.c_str(), O_RDONLY);
            const int file = out_fd >= 0 ? out_fd : open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            dup2(in_fd, 0);
            dup2(file, 1);
            if (merged_) {
                dup2(1, 2);
            } else {
                dup2(open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 2);
            }
            if (chdir(cwd.c_str()) != 0) {
                _exit(99);
            }
            log::init("stub");  // as main does: errors are lines on stderr
            if (!tmpdir_.empty()) {
                setenv("TMPDIR", tmpdir_.c_str(), 1);
            }
            // The early run says only whether the master served it: 0 when it did not.
            const int code = early_ ? (run_if_master_serves(request).has_value() ? 1 : 0) : run_remote(request);
            std::cout.flush();
            _exit(code);
        }
        return {pid};
    }

    static int wait(const Stub &stub) {
        int status = 0;
        while (waitpid(stub.pid, &status, 0) < 0) {
            if (errno != EINTR) {
                return -1;
            }
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
    }

    int run(const ClientRequest &request, const std::string &cwd) { return wait(start(request, cwd)); }
    int run(const ClientRequest &request) { return run(request, base_); }

    std::string stdout_text() const { return test::read_file(dir_ / "stdout"); }
    std::string stderr_text() const { return test::read_file(dir_ / "stderr"); }

    test::TestServer server_{{"sh /bin/sh"}};
    test::TempDir dir_;
    Config config_;
    std::string base_;
    bool merged_ = false;
    bool early_ = false;  // run_if_master_serves instead of run_remote
    std::string tmpdir_;  // the child's TMPDIR, where reuse masters live
};

TEST_F(Client, ArgvArrivesByteForByte) {
    const std::vector<std::string> args = {"a b", "it's", "\"q\"", "*",        "$HOME", "`id`", "line1\nline2",
                                           "",    " ",    "\\",    "\xff\xfe", ";|&<>", "--",   "-x"};
    EXPECT_EQ(run(request("argdump", args)), 0) << stderr_text();
    std::string expected;
    for (const auto &arg : args) {
        expected += arg;
        expected.push_back('\0');
    }
    EXPECT_TRUE(stdout_text() == expected) << stdout_text();
}

TEST_F(Client, TheExitCodeIsTheCommands) {
    EXPECT_EQ(run(request("sh", {"-c", "exit 42"})), 42);
    EXPECT_EQ(run(request("sh", {"-c", "kill -TERM $$"})), 128 + SIGTERM);
}

TEST_F(Client, TheWorkingDirectoryMapsBelowTheBase) {
    std::filesystem::create_directories(base_ + "/src/module");
    EXPECT_EQ(run(request("sh", {"-c", "pwd"}), base_ + "/src/module"), 0) << stderr_text();
    EXPECT_EQ(stdout_text(), base_ + "/src/module\n");
}

TEST_F(Client, AWorkingDirectoryOutsideTheBaseIsAUsageError) {
    EXPECT_EQ(run(request("sh", {"-c", "pwd"}), dir_.path()), exit_code::kUsage);
    EXPECT_EQ(stdout_text(), "");
    EXPECT_EQ(stderr_text().rfind("stub: working directory \"" + dir_.path() + "\" is outside baseDirectory", 0), 0u)
        << stderr_text();
}

// The early run (main.cpp, before the static constructors) without a master: nothing ran,
// nothing was said, and no master was started there (main's ordinary run then starts it, once).
TEST_F(Client, TheEarlyRunWithoutAMasterRunsSaysAndStartsNothing) {
    config_.connection_reuse_ms = 30000;
    test::TempDir masters;
    tmpdir_ = masters.path();
    early_ = true;
    const std::string marker = dir_ / "ran";
    EXPECT_EQ(run(request("sh", {"-c", "touch " + marker})), 0);
    EXPECT_FALSE(std::filesystem::exists(marker));
    EXPECT_EQ(stdout_text(), "");
    EXPECT_EQ(stderr_text(), "");
    EXPECT_TRUE(std::filesystem::is_empty(masters.path())) << "a master's directory was made";
    // Errors are main's to report: the early run only steps aside.
    EXPECT_EQ(run(request("sh", {"-c", "touch " + marker}), dir_.path()), 0);
    EXPECT_EQ(stderr_text(), "");
}

TEST_F(Client, StdoutAndStderrAsOneFileKeepTheCommandsOrder) {
    merged_ = true;
    std::string script = "i=0; while [ $i -lt 200 ]; do echo out$i; echo err$i >&2; i=$((i + 1)); done";
    EXPECT_EQ(run(request("sh", {"-c", script})), 0);
    std::string expected;
    for (int i = 0; i < 200; ++i) {
        expected += "out" + std::to_string(i) + "\nerr" + std::to_string(i) + "\n";
    }
    EXPECT_EQ(stdout_text(), expected);
}

TEST_F(Client, StdoutAndStderrApartStayApart) {
    EXPECT_EQ(run(request("sh", {"-c", "echo out; echo err >&2"})), 0);
    EXPECT_EQ(stdout_text(), "out\n");
    EXPECT_EQ(stderr_text(), "err\n");
}

TEST_F(Client, TerminationSignalsAreForwardedToTheCommand) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    UniqueFd ready_read(fds[0]);
    UniqueFd ready_write(fds[1]);
    const Stub stub = start(request("sh", {"-c", "echo ready; exec sleep 60"}), base_, ready_write.get());
    ready_write.reset();
    char ready[6] = {};
    const bool started = read_all(ready_read.get(), ready, sizeof ready);
    kill(stub.pid, SIGTERM);
    EXPECT_EQ(wait(stub), 128 + SIGTERM);
    EXPECT_TRUE(started);
}

TEST_F(Client, AnUnreachableServerIs255WithOneLine) {
    config_.connect_timeout_ms = 0;
    server_.stop();
    EXPECT_EQ(run(request("sh", {"-c", "true"})), exit_code::kConnection);
    const std::string error = stderr_text();
    EXPECT_EQ(error.rfind("stub: cannot connect to server 'srv'", 0), 0u) << error;
    EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 1) << error;
}

// --check prints its report on stdout; run in a child too (the report goes to fd 1).
int check(const Config &config, const std::string &keys, const std::string &out) {
    std::cout.flush();
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 1);
        const int code = check_servers(config, keys);
        std::cout.flush();
        _exit(code);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(Client, CheckReportsEachServerAndCommand) {
    const std::string port = std::to_string(server_.port());
    EXPECT_EQ(check(config_, server_.key_directory(), dir_ / "check"), 0);
    EXPECT_EQ(test::read_file(dir_ / "check"), "server srv 127.0.0.1:" + port + " ok\n  sh\n  argdump\n");

    server_.stop();
    EXPECT_EQ(check(config_, server_.key_directory(), dir_ / "check"), exit_code::kConnection);
    const std::string report = test::read_file(dir_ / "check");
    EXPECT_EQ(report.rfind("server srv 127.0.0.1:" + port + " FAILED: cannot connect", 0), 0u) << report;
    EXPECT_NE(report.find("\n  sh (unreachable)\n  argdump (unreachable)\n"), std::string::npos) << report;
}

}  // namespace
}  // namespace k8psh
