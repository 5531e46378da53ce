// Connecting to a real k8pshd with the pod's keys, made by pki in a scratch directory: a
// connection with the right keys authenticates; another pod's client key, a known_hosts that
// does not name the server, an unreadable key and a port nobody listens on each end in a
// ConnectError whose one line says which; a signal ends the wait for a server at once.
#include "client_connection.h"

#include "test_server.h"

#include <csignal>
#include <filesystem>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <thread>

namespace k8psh {
namespace {

class ClientConnection : public ::testing::Test {
protected:
    void SetUp() override { K8PSH_START_TEST_SERVER(server_); }

    ConnectTarget target(const std::string &key_directory) const {
        ConnectTarget target = server_.target();
        target.key_directory = key_directory;
        return target;
    }

    // A key directory with this pod's `file` replaced by another pod's.
    std::string with_foreign(const std::string &name, const std::string &file) {
        const std::string other = dir_ / "other";
        ensure_key_directory(other, {});
        std::string mixed = dir_ / name;
        std::filesystem::create_directory(mixed);
        for (const char *key : {kClientKey, kKnownHosts}) {
            const std::string from = (key == file ? other : server_.key_directory()) + "/" + key;
            std::filesystem::copy_file(from, mixed + "/" + key);
            chmod((mixed + "/" + key).c_str(), 0600);
        }
        return mixed;
    }

    // The message of the ConnectError connect_authenticated throws ("" and a failure if none).
    static ConnectError error_of(const ConnectTarget &target) {
        try {
            connect_authenticated(target);
        } catch (const ConnectError &error) {
            return error;
        }
        ADD_FAILURE() << "connected";
        return {};
    }

    test::TestServer server_{{"sh /bin/sh"}};
    test::TempDir dir_;
};

TEST_F(ClientConnection, ThePodsKeysAuthenticate) {
    OwnedSession session = connect_authenticated(target(server_.key_directory()));
    ASSERT_NE(session.get(), nullptr);
    EXPECT_TRUE(ssh_is_connected(session.get()));
    // Authenticated: the server opens a session channel (it opens none before).
    ssh_channel channel = ssh_channel_new(session.get());
    ASSERT_NE(channel, nullptr);
    EXPECT_EQ(ssh_channel_open_session(channel), SSH_OK) << ssh_get_error(session.get());
    ssh_channel_close(channel);
    ssh_channel_free(channel);
}

TEST_F(ClientConnection, AnotherPodsClientKeyIsRefusedNamingTheKey) {
    const std::string keys = with_foreign("wrong-client", kClientKey);
    const ConnectError error = error_of(target(keys));
    EXPECT_EQ(error.signal, 0);
    EXPECT_NE(error.message.find("authentication failed"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find(keys + "/" + kClientKey), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("'srv'"), std::string::npos) << error.message;
}

TEST_F(ClientConnection, AServerNotInKnownHostsIsAMismatch) {
    const std::string keys = with_foreign("wrong-host", kKnownHosts);
    const ConnectError error = error_of(target(keys));
    EXPECT_NE(error.message.find("host key mismatch"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("127.0.0.1:" + std::to_string(server_.port())), std::string::npos) << error.message;
    EXPECT_NE(error.message.find(keys + "/" + kKnownHosts), std::string::npos) << error.message;
}

TEST_F(ClientConnection, AnEmptyKnownHostsTrustsNobody) {
    const std::string keys = with_foreign("empty-known-hosts", kKnownHosts);
    test::write_file(keys + "/" + kKnownHosts, "# nothing trusted\n");
    EXPECT_NE(error_of(target(keys)).message.find("host key mismatch"), std::string::npos);
}

TEST_F(ClientConnection, AMissingKnownHostsIsAnError) {
    const std::string keys = with_foreign("no-known-hosts", kKnownHosts);
    std::filesystem::remove(keys + "/" + kKnownHosts);
    const ConnectError error = error_of(target(keys));
    EXPECT_NE(error.message.find(keys + "/" + kKnownHosts + ": cannot read known_hosts"), std::string::npos)
        << error.message;
}

TEST_F(ClientConnection, AMissingOrDamagedClientKeyIsAnError) {
    const std::string keys = with_foreign("bad-client", kKnownHosts);
    const std::string key = keys + "/" + kClientKey;
    test::write_file(key, "not a key\n");
    EXPECT_NE(error_of(target(keys)).message.find(key + ": not a valid private key"), std::string::npos);
    std::filesystem::remove(key);
    const ConnectError missing = error_of(target(keys));
    EXPECT_EQ(missing.message.rfind(key + ": missing", 0), 0u) << missing.message;
}

TEST_F(ClientConnection, NobodyListeningWithoutRetriesFailsAtOnce) {
    ConnectTarget nowhere = target(server_.key_directory());
    nowhere.port = test::free_port();
    nowhere.timeout_ms = 0;
    const auto started = Clock::now();
    const ConnectError error = error_of(nowhere);
    EXPECT_EQ(error.message.rfind(
                  "cannot connect to server 'srv' at 127.0.0.1:" + std::to_string(nowhere.port) + " within 0 ms", 0),
              0u)
        << error.message;
    // No retry was waited for (a retry would cost at least its 32 ms delay plus another attempt);
    // the bound only separates "one attempt" from "retried until some limit".
    EXPECT_LT(Clock::now() - started, std::chrono::seconds(5 * test::time_scale()));
}

// A stub waiting for its server (here: forever) ends at once on a signal, reported as the
// signal; a window-size change is not a reason to stop.
TEST_F(ClientConnection, ASignalEndsTheWaitForAServer) {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    const unsigned char signals[] = {SIGWINCH, SIGINT};
    ASSERT_EQ(write(write_end.get(), signals, sizeof signals), static_cast<ssize_t>(sizeof signals));

    ConnectTarget nowhere = target(server_.key_directory());
    nowhere.port = test::free_port();
    nowhere.timeout_ms = -1;
    nowhere.interrupt_fd = read_end.get();
    const ConnectError error = error_of(nowhere);
    EXPECT_EQ(error.signal, SIGINT);
    EXPECT_EQ(error.message, "");
}

// The server may start after the client (containers of a pod start in any order): the client
// keeps retrying within its timeout.
TEST_F(ClientConnection, AServerThatStartsLaterIsWaitedFor) {
    server_.stop();
    ASSERT_FALSE(test::accepts_connections(server_.port()));
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    UniqueFd trying(fds[0]);
    UniqueFd say_trying(fds[1]);
    OwnedSession session;
    std::string failure = "no result";
    std::thread client([&, where = target(server_.key_directory())] {
        say_trying.reset();  // the attempts begin now (EOF on `trying`)
        try {
            session = connect_authenticated(where);
            failure.clear();
        } catch (const ConnectError &error) {
            failure = error.message;
        }
    });
    char byte;
    (void)!read(trying.get(), &byte, 1);
    std::string why;
    const bool restarted = server_.start(why);
    client.join();
    ASSERT_TRUE(restarted) << why;
    EXPECT_EQ(failure, "");
    EXPECT_NE(session.get(), nullptr);
}

}  // namespace
}  // namespace k8psh
