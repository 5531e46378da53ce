// SSH signal names (RFC 4254 §6.10) both ways: what a client sends must map to the signal the
// server delivers, and back for exit-signal.
#include "signals.h"

#include <csignal>
#include <gtest/gtest.h>

namespace k8psh {
namespace {

TEST(Signals, EveryForwardedSignalRoundTrips) {
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGTSTP, SIGCONT, SIGKILL, SIGWINCH}) {
        const std::string name = ssh_name_of_signal(signal);
        ASSERT_FALSE(name.empty()) << signal;
        EXPECT_EQ(signal_from_ssh_name(name), signal) << name;
    }
}

TEST(Signals, NamesHaveNoSigPrefix) {
    EXPECT_EQ(signal_from_ssh_name("INT"), SIGINT);
    EXPECT_EQ(signal_from_ssh_name("SIGINT"), 0);
    EXPECT_EQ(ssh_name_of_signal(SIGTERM), "TERM");
}

TEST(Signals, UnknownNamesAndNumbersMapToNothing) {
    EXPECT_EQ(signal_from_ssh_name(""), 0);
    EXPECT_EQ(signal_from_ssh_name("int"), 0);
    EXPECT_EQ(signal_from_ssh_name("RTMIN"), 0);
    EXPECT_EQ(ssh_name_of_signal(0), "");
    EXPECT_EQ(ssh_name_of_signal(SIGRTMIN), "");
}

}  // namespace
}  // namespace k8psh
