// The local socket between stubs and their reuse master: a request and the stub's three
// streams arrive intact, anything else is refused, one socket per master identity.
#include "reuse_socket.h"

#include "temp_dir.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace k8psh {
namespace {

struct SocketPair {
    int stub = -1;
    int master = -1;
    SocketPair() {
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0) {
            stub = fds[0];
            master = fds[1];
        }
    }
    ~SocketPair() {
        close(stub);
        close(master);
    }
};

TEST(ReuseRequest, ArrivesWithTheStubsStreams) {
    SocketPair pair;
    int pipes[3][2];
    for (auto &p : pipes) {
        ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
    }
    // stdin is a read end; stdout and stderr are write ends, as a stub's would be.
    const int stdio[3] = {pipes[0][0], pipes[1][1], pipes[2][1]};
    WireRequest sent;
    sent.env = {{"CC", "gcc -O2"}, {"K8PSH_CWD", "src/lib"}, {"EMPTY", ""}};
    sent.exec = std::string("gcc '-DX=a b' \xff\n", 16);
    ASSERT_TRUE(send_reuse_request(pair.stub, sent, stdio));

    int received[3];
    auto request = receive_reuse_request(pair.master, received);
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(request->env, sent.env);
    EXPECT_EQ(request->exec, sent.exec);
    EXPECT_FALSE(request->tty);
    for (int fd : received) {
        EXPECT_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC) << "passed fds must not leak into commands";
    }
    // The master's copies are the very same pipes.
    ASSERT_EQ(write(pipes[0][1], "i", 1), 1);
    char byte = 0;
    ASSERT_EQ(read(received[0], &byte, 1), 1);
    EXPECT_EQ(byte, 'i');
    ASSERT_EQ(write(received[1], "o", 1), 1);
    ASSERT_EQ(read(pipes[1][0], &byte, 1), 1);
    EXPECT_EQ(byte, 'o');
    ASSERT_EQ(write(received[2], "e", 1), 1);
    ASSERT_EQ(read(pipes[2][0], &byte, 1), 1);
    EXPECT_EQ(byte, 'e');
    for (int fd : received) {
        close(fd);
    }
    for (auto &p : pipes) {
        close(p[0]);
        close(p[1]);
    }
}

TEST(ReuseRequest, LongArgvTravels) {
    SocketPair pair;
    WireRequest sent;
    sent.exec.assign(3u << 20, 'x');  // more than a socket buffer: written while being read
    const int stdio[3] = {0, 1, 2};
    pid_t writer = fork();
    ASSERT_GE(writer, 0);
    if (writer == 0) {
        _exit(send_reuse_request(pair.stub, sent, stdio) ? 0 : 1);
    }
    int received[3];
    auto request = receive_reuse_request(pair.master, received);
    int status = 0;
    waitpid(writer, &status, 0);
    ASSERT_TRUE(request.has_value());
    EXPECT_EQ(request->exec.size(), sent.exec.size());
    EXPECT_EQ(WEXITSTATUS(status), 0);
    for (int fd : received) {
        close(fd);
    }
}

TEST(ReuseRequest, GarbageIsRefused) {
    SocketPair pair;
    ASSERT_EQ(write(pair.stub, "GET / HTTP/1.0\r\n\r\n", 18), 18);
    shutdown(pair.stub, SHUT_WR);
    int received[3];
    EXPECT_FALSE(receive_reuse_request(pair.master, received).has_value());
    EXPECT_EQ(received[0], -1);
}

TEST(ReuseRequest, RequestWithoutStreamsIsRefused) {
    SocketPair pair;
    // A well-formed header and an empty request, but no fds attached.
    const char message[] = {'K', '1', 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ASSERT_EQ(write(pair.stub, message, sizeof message), static_cast<ssize_t>(sizeof message));
    int received[3];
    EXPECT_FALSE(receive_reuse_request(pair.master, received).has_value());
}

TEST(ReuseRequest, OversizedLengthIsRefusedWithoutReadingIt) {
    const int stdio[3] = {0, 1, 2};
    // A header claiming 4 GiB, with fds attached as a stub would.
    SocketPair forged;
    const char header[] = {'K', '1', 0, 0, '\xff', '\xff', '\xff', '\xff'};
    iovec iov{const_cast<char *>(header), sizeof header};
    alignas(cmsghdr) char control[CMSG_SPACE(3 * sizeof(int))] = {};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr *cmsg = CMSG_FIRSTHDR(&message);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(3 * sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), stdio, sizeof stdio);
    ASSERT_EQ(sendmsg(forged.stub, &message, 0), static_cast<ssize_t>(sizeof header));
    int received[3];
    EXPECT_FALSE(receive_reuse_request(forged.master, received).has_value());
    EXPECT_EQ(received[0], -1) << "refused requests' fds are closed";
}

TEST(ReuseResult, RoundTripAndIncomplete) {
    std::string bytes = encode_result(137, "server 'srv' refused the request: x");
    auto outcome = decode_result(bytes);
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(outcome->code, 137);
    EXPECT_EQ(outcome->error, "server 'srv' refused the request: x");
    EXPECT_FALSE(decode_result(bytes.substr(0, bytes.size() - 1)).has_value());
    EXPECT_FALSE(decode_result("").has_value());
    auto empty = decode_result(encode_result(0, ""));
    ASSERT_TRUE(empty.has_value());
    EXPECT_EQ(empty->code, 0);
    EXPECT_EQ(empty->error, "");
}

TEST(ReuseEndpoint, OnePerIdentityUnderTmpdir) {
    test::TempDir dir;
    setenv("TMPDIR", dir.path().c_str(), 1);
    auto a = reuse_endpoint("identity a");
    auto b = reuse_endpoint("identity b");
    auto again = reuse_endpoint("identity a");
    unsetenv("TMPDIR");
    ASSERT_TRUE(a && b && again);
    EXPECT_EQ(a->directory, dir.path() + "/k8psh-" + std::to_string(geteuid()));
    EXPECT_EQ(a->socket, a->directory + "/" + a->name + ".sock");
    EXPECT_EQ(a->socket, again->socket);
    EXPECT_NE(a->socket, b->socket);
    EXPECT_EQ(a->lock, a->name + ".lock") << "names inside the directory, opened relative to its handle";
    EXPECT_EQ(a->lock.find('/'), std::string::npos);
    EXPECT_EQ(a->log.find('/'), std::string::npos);
}

TEST(ReuseEndpoint, NoneWhenThePathCannotBeASocketAddress) {
    setenv("TMPDIR", ("/" + std::string(120, 'd')).c_str(), 1);
    auto endpoint = reuse_endpoint("identity");
    unsetenv("TMPDIR");
    EXPECT_FALSE(endpoint.has_value());
}

}  // namespace
}  // namespace k8psh
