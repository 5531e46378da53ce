#include "terminal.h"

#include <csignal>
#include <cstdlib>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

namespace k8psh {
namespace {

termios g_saved{};
termios g_raw_settings{};
bool g_saved_valid = false;
volatile sig_atomic_t g_raw = 0;

// Started by the shell as a job of its own: the shell made us the leader of the group it
// hands the terminal (our controlling one) to. A recipe of make, or a command of a script,
// is not. Only "is our controlling terminal" is checked, not "is in the foreground now": a
// job started with `&` gets here before its `fg`, and leads the foreground job after it.
bool leads_foreground_job() {
    return getpgrp() == getpid() && tcgetpgrp(0) > 0;
}

}  // namespace

termios raw_mode_settings(const termios &saved, bool signal_keys) {
    termios raw = saved;
    cfmakeraw(&raw);
    // Output processing stays as it was: the remote terminal already sends \r\n, and the other
    // processes writing to this terminal meanwhile (make, other stubs) rely on \n → \r\n.
    raw.c_oflag = saved.c_oflag;
    if (signal_keys) {
        raw.c_lflag |= saved.c_lflag & ISIG;
    }
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    return raw;
}

bool enter_raw_mode() {
    if (!g_saved_valid) {
        if (tcgetattr(0, &g_saved) != 0) {
            return false;
        }
        g_saved_valid = true;
        g_raw_settings = raw_mode_settings(g_saved, !leads_foreground_job());
    }
    g_raw = 1;
    return tcsetattr(0, TCSADRAIN, &g_raw_settings) == 0;
}

void restore_terminal() {
    if (g_raw) {
        g_raw = 0;
        sigset_t ttou;
        sigset_t previous;
        sigemptyset(&ttou);
        sigaddset(&ttou, SIGTTOU);
        sigprocmask(SIG_BLOCK, &ttou, &previous);
        tcsetattr(0, TCSADRAIN, &g_saved);
        sigprocmask(SIG_SETMASK, &previous, nullptr);
    }
}

bool terminal_adds_carriage_returns() {
    return g_saved_valid && (g_saved.c_oflag & OPOST) != 0 && (g_saved.c_oflag & ONLCR) != 0;
}

bool terminal_is_raw() {
    return g_raw != 0;
}

bool terminal_in_foreground() {
    return tcgetpgrp(0) == getpgrp();
}

WindowSize terminal_size(int fd) {
    winsize ws{};
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) {
        return WindowSize{};
    }
    return WindowSize{ws.ws_col, ws.ws_row, ws.ws_xpixel, ws.ws_ypixel};
}

}  // namespace k8psh
