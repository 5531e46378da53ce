// Raw mode for PTY sessions (README: Terminal): what it switches off, and what it keeps so the
// terminal stays usable for the other processes of the same job.
#include "terminal.h"

#include <gtest/gtest.h>

namespace k8psh {
namespace {

termios cooked() {
    termios t{};
    t.c_iflag = ICRNL | IXON | BRKINT;
    t.c_oflag = OPOST | ONLCR;
    t.c_cflag = CS8 | CREAD;
    t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN;
    t.c_cc[VINTR] = 3;
    t.c_cc[VMIN] = 0;
    return t;
}

TEST(RawMode, KeysAreBytesAndNothingIsEchoed) {
    termios raw = raw_mode_settings(cooked(), false);
    EXPECT_EQ(raw.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0u);
    EXPECT_EQ(raw.c_iflag & (ICRNL | IXON), 0u);
    EXPECT_EQ(raw.c_cc[VMIN], 1);
    EXPECT_EQ(raw.c_cc[VTIME], 0);
}

TEST(RawMode, OutputProcessingStaysAsItWas) {
    EXPECT_EQ(raw_mode_settings(cooked(), false).c_oflag, static_cast<tcflag_t>(OPOST | ONLCR));
    EXPECT_EQ(raw_mode_settings(cooked(), true).c_oflag, static_cast<tcflag_t>(OPOST | ONLCR));
    termios plain = cooked();
    plain.c_oflag = 0;  // a terminal the user had set up without output processing stays so
    EXPECT_EQ(raw_mode_settings(plain, false).c_oflag, 0u);
}

TEST(RawMode, SignalKeysKeptForAMemberOfALargerJob) {
    termios raw = raw_mode_settings(cooked(), true);
    EXPECT_NE(raw.c_lflag & ISIG, 0u);
    EXPECT_EQ(raw.c_cc[VINTR], 3);
    EXPECT_EQ(raw.c_lflag & (ICANON | ECHO), 0u);
    termios no_signals = cooked();
    no_signals.c_lflag &= ~static_cast<tcflag_t>(ISIG);  // `stty -isig` before: not turned on
    EXPECT_EQ(raw_mode_settings(no_signals, true).c_lflag & ISIG, 0u);
}

}  // namespace
}  // namespace k8psh
