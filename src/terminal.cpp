#include "terminal.h"

#include <csignal>
#include <cstdlib>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

namespace k8psh {
namespace {

termios g_saved{};
volatile sig_atomic_t g_raw = 0;

}  // namespace

bool enter_raw_mode() {
    if (tcgetattr(0, &g_saved) != 0) {
        return false;
    }
    termios raw = g_saved;
    cfmakeraw(&raw);
    // Keep output processing: the remote terminal already turned \n into \r\n.
    raw.c_oflag = g_saved.c_oflag & ~static_cast<tcflag_t>(OPOST);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    static bool registered = false;
    if (!registered) {
        registered = true;
        std::atexit(restore_terminal);
    }
    g_raw = 1;
    return tcsetattr(0, TCSADRAIN, &raw) == 0;
}

void restore_terminal() {
    if (g_raw) {
        g_raw = 0;
        tcsetattr(0, TCSADRAIN, &g_saved);
    }
}

WindowSize terminal_size() {
    winsize ws{};
    if (ioctl(0, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) {
        return WindowSize{};
    }
    return WindowSize{ws.ws_col, ws.ws_row, ws.ws_xpixel, ws.ws_ypixel};
}

}  // namespace k8psh
