#pragma once
// The client's local terminal in PTY mode: raw mode on, and always back to how it was
// (normal exit, error, fatal signal), plus its size for pty-req and window-change.
#include "server_pty.h"

namespace k8psh {

// Puts fd 0 in raw mode; the saved settings are restored by restore_terminal(), which is
// also registered with atexit. Returns false when stdin is not a terminal.
bool enter_raw_mode();
// Idempotent and async-signal-safe (tcsetattr only).
void restore_terminal();

// The size of the terminal on fd 0 (or 80x24 when it has none).
WindowSize terminal_size();

}  // namespace k8psh
