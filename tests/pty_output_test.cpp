// Bare line feeds from a remote PTY become IND, so the local terminal's \n → \r\n does not
// move the cursor to column 0 where the remote program did not ask for it.
#include "pty_output.h"

#include <gtest/gtest.h>

namespace k8psh {
namespace {

std::string translated(LineFeedKeeper &keeper, const std::string &data) {
    std::string out;
    keeper.translate(data.data(), data.size(), out);
    return out;
}

TEST(LineFeedKeeper, CrLfAndTextUnchanged) {
    LineFeedKeeper keeper;
    EXPECT_EQ(translated(keeper, "line 1\r\nline 2\r\n"), "line 1\r\nline 2\r\n");
    EXPECT_EQ(translated(keeper, "\033[1;1H\033[2Jtext"), "\033[1;1H\033[2Jtext");
}

TEST(LineFeedKeeper, BareLineFeedBecomesIndex) {
    LineFeedKeeper keeper;
    EXPECT_EQ(translated(keeper, "ab\ncd\n\n"), "ab\033Dcd\033D\033D");
    EXPECT_EQ(translated(keeper, "\r\n\n"), "\r\n\033D");
}

TEST(LineFeedKeeper, CrLfSplitAcrossPackets) {
    LineFeedKeeper keeper;
    EXPECT_EQ(translated(keeper, "x\r"), "x\r");
    EXPECT_EQ(translated(keeper, "\ny"), "\ny");
    EXPECT_EQ(translated(keeper, "\n"), "\033D");
}

}  // namespace
}  // namespace k8psh
