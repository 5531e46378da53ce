// The binary's faces (main.cpp), chosen by the name it is started under, run for real: the built
// k8psh as a stub named after its command, as `k8psh CMD`, `k8psh --check`, `k8psh --init`,
// with a real k8pshd (itself started under the name k8pshd) behind them.
#include "exit_codes.h"
#include "test_server.h"

#include <gtest/gtest.h>

namespace k8psh {
namespace {

struct Ran {
    int code = -1;
    std::string out;
    std::string err;
};

class Main : public ::testing::Test {
protected:
    void SetUp() override {
        // No reuse master: it would outlive the test as a detached process.
        server_.add_setting("connectionReuseMs = 0");
        K8PSH_START_TEST_SERVER(server_);
    }

    // Runs the binary as `name ARGS…` in the configuration's directory, with the pod's
    // K8PSH_CONFIG and K8PSH_KEYS, stdin empty; waits for its end.
    Ran run(const std::string &name, std::vector<std::string> args) {
        args.insert(args.begin(), name);
        std::vector<char *> argv = exec_array(args);
        std::vector<std::string> env = {"K8PSH_CONFIG=" + (server_.dir() / "k8psh.conf"),
                                        "K8PSH_KEYS=" + server_.key_directory(), "PATH=/usr/bin:/bin"};
        std::vector<char *> envp = exec_array(env);
        const std::string out = dir_ / "out";
        const std::string err = dir_ / "err";
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_addchdir_np(&actions, server_.dir().path().c_str());
        pid_t pid = -1;
        const std::string binary = test::k8psh_binary();
        const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&actions);
        Ran ran;
        if (rc != 0) {
            ADD_FAILURE() << "cannot start " << binary << ": " << std::strerror(rc);
            return ran;
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        ran.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        ran.out = test::read_file(out);
        ran.err = test::read_file(err);
        return ran;
    }

    test::TestServer server_{{"sh /bin/sh"}};
    test::TempDir dir_;
};

TEST_F(Main, AStubRunsTheCommandItIsNamedAfter) {
    // Every argument is the command's, even the ones k8psh itself would take as options.
    const Ran ran = run("sh", {"-c", "echo \"$@\"; exit 5", "x", "--version", "-c", "--help"});
    EXPECT_EQ(ran.code, 5) << ran.err;
    EXPECT_EQ(ran.out, "--version -c --help\n");
    EXPECT_EQ(ran.err, "");
}

TEST_F(Main, AStubOfAnUnknownCommandIs127) {
    const Ran ran = run("gcc", {"--version"});
    EXPECT_EQ(ran.code, exit_code::kUnknownCommand);
    EXPECT_EQ(ran.err.rfind("gcc: unknown command 'gcc'", 0), 0u) << ran.err;
    EXPECT_EQ(ran.out, "");
}

TEST_F(Main, TheClientFaceRunsACommand) {
    const Ran ran = run("k8psh", {"-T", "sh", "-c", "echo client; exit 3"});
    EXPECT_EQ(ran.code, 3) << ran.err;
    EXPECT_EQ(ran.out, "client\n");
    // Also started by a path: the face is the last part of the name.
    EXPECT_EQ(run("/some/where/k8psh", {"-T", "--", "sh", "-c", "exit 4"}).code, 4);
}

TEST_F(Main, TheClientFaceWithoutACommandIsAUsageError) {
    const Ran ran = run("k8psh", {});
    EXPECT_EQ(ran.code, exit_code::kUsage);
    EXPECT_NE(ran.err.find("no command given"), std::string::npos) << ran.err;
}

TEST_F(Main, ABrokenConfigurationIsAUsageErrorForEveryFace) {
    test::write_file(server_.dir() / "k8psh.conf", "connectionReuseMs = 0\n[ srv:1\n");
    for (const char *face : {"sh", "k8psh"}) {
        const Ran ran = run(face, face == std::string("sh") ? std::vector<std::string>{"-c", "true"}
                                                            : std::vector<std::string>{"sh", "-c", "true"});
        EXPECT_EQ(ran.code, exit_code::kUsage) << face;
        EXPECT_NE(ran.err.find(server_.dir() / "k8psh.conf:2:"), std::string::npos) << face << ": " << ran.err;
    }
}

TEST_F(Main, CheckProbesTheServers) {
    const Ran ran = run("k8psh", {"--check"});
    EXPECT_EQ(ran.code, 0) << ran.err;
    EXPECT_EQ(ran.out, "server srv 127.0.0.1:" + std::to_string(server_.port()) + " ok\n  sh\n");
}

TEST_F(Main, TheInitFaceReturnsTheCommandsCode) {
    EXPECT_EQ(run("k8psh", {"--init", "--", "sh", "-c", "exit 6"}).code, 6);
}

}  // namespace
}  // namespace k8psh
