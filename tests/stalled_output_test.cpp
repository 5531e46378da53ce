// Output into a stub's stdout from the master: everything arrives while someone reads, and a
// stalled output gives way as soon as the stub's socket hangs up, with the file left blocking.
#include "stalled_output.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace k8psh {
namespace {

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
        close(read);
        close(write);
    }
};

struct Peer {
    int stub = -1;
    int master = -1;
    Peer() {
        int fds[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0) {
            stub = fds[0];
            master = fds[1];
        }
    }
    ~Peer() {
        if (stub >= 0) {
            close(stub);
        }
        close(master);
    }
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

TEST(StalledOutput, EverythingArrivesThroughAPipeBeingRead) {
    Pipe out;
    Peer peer;
    const std::string data(1u << 20, 'x');  // many pipe buffers
    std::string received;
    std::thread reader = drain_into(out.read, received);
    EXPECT_EQ(write_output(out.write, data.data(), data.size(), peer.master), OutputWrite::Done);
    close(out.write);
    out.write = -1;
    reader.join();
    EXPECT_EQ(received, data);
}

TEST(StalledOutput, EverythingArrivesThroughASocket) {
    Peer out;
    Peer peer;
    const std::string data(1u << 20, 'y');
    std::string received;
    std::thread reader([&] {
        char buffer[65536];
        ssize_t n;
        while (received.size() < data.size() && (n = read(out.stub, buffer, sizeof buffer)) > 0) {
            received.append(buffer, static_cast<std::size_t>(n));
        }
    });
    EXPECT_EQ(write_output(out.master, data.data(), data.size(), peer.master), OutputWrite::Done);
    reader.join();
    EXPECT_EQ(received, data);
    EXPECT_EQ(fcntl(out.master, F_GETFL) & O_NONBLOCK, 0) << "the shared file stays blocking";
}

TEST(StalledOutput, AStalledPipeGivesWayWhenTheStubHangsUp) {
    Pipe out;  // nobody ever reads it
    Peer peer;
    const std::string data(1u << 20, 'z');
    std::thread stub_dies([&] {
        // Once the pipe is full the writer can only be waiting; then the stub goes.
        const int capacity = fcntl(out.write, F_GETPIPE_SZ);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        int queued = 0;
        while (ioctl(out.write, FIONREAD, &queued) == 0 && queued < capacity &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        EXPECT_EQ(queued, capacity) << "the pipe never filled up";
        close(peer.stub);
        peer.stub = -1;
    });
    EXPECT_EQ(write_output(out.write, data.data(), data.size(), peer.master), OutputWrite::PeerGone);
    stub_dies.join();
    EXPECT_EQ(fcntl(out.write, F_GETFL) & O_NONBLOCK, 0) << "the shared file stays blocking";
}

TEST(StalledOutput, SignalBytesFromTheStubDoNotStopIt) {
    Pipe out;
    Peer peer;
    ASSERT_EQ(write(peer.stub, "\x0f", 1), 1);  // a forwarded SIGTERM waiting to be read
    const std::string data(100000, 'w');
    std::string received;
    std::thread reader = drain_into(out.read, received);
    EXPECT_EQ(write_output(out.write, data.data(), data.size(), peer.master), OutputWrite::Done);
    close(out.write);
    out.write = -1;
    reader.join();
    EXPECT_EQ(received.size(), data.size());
}

TEST(StalledOutput, AReaderThatLeftIsBroken) {
    Pipe out;
    Peer peer;
    close(out.read);
    out.read = -1;
    signal(SIGPIPE, SIG_IGN);
    EXPECT_EQ(write_output(out.write, "x", 1, peer.master), OutputWrite::Broken);
    EXPECT_EQ(errno, EPIPE);
}

}  // namespace
}  // namespace k8psh
