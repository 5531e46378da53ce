#pragma once
// The client's local terminal in PTY mode: raw mode on, and always back to how it was
// (normal exit, error, fatal signal, Ctrl-Z), plus its size for pty-req and window-change.
#include "window_size.h"

#include <termios.h>

namespace k8psh {

// Puts fd 0 in raw mode. The first call saves the settings that restore_terminal() puts back
// and decides the ^C rule once; later calls (after Ctrl-Z and `fg`) apply the same raw settings
// again. Returns false when stdin is not a terminal. No atexit hook: stubs end with _exit, so
// every path out of raw mode restores explicitly (the remote run's end and its destructor, the
// Ctrl-Z handler).
//
// The ^C rule: a stub that leads the terminal's foreground job (started by the shell) turns
// signal keys off, so ^C, ^\ and ^Z reach its remote program as bytes (an editor's keys). A
// stub that is one member of a larger job (started by make or a script) keeps them on, so the
// line discipline signals the whole job, as it would for local programs.
bool enter_raw_mode();
// The raw settings made from `saved`: no line editing, echo or input translation; output
// processing as it was; signal keys only with `signal_keys` (and only if `saved` had them).
termios raw_mode_settings(const termios &saved, bool signal_keys);

// Idempotent and async-signal-safe (sigprocmask and tcsetattr only). Works from a background
// process group too (SIGTTOU is blocked meanwhile): after Ctrl-Z the shell may already have
// taken the terminal back.
void restore_terminal();
// Whether the terminal's own settings (kept in raw mode) turn \n into \r\n on output.
bool terminal_adds_carriage_returns();
// Whether raw mode is on now.
bool terminal_is_raw();
// Whether this process's group owns the terminal on fd 0 (it may change it without SIGTTOU).
bool terminal_in_foreground();

// The size of the terminal on `fd` (or 80x24 when it has none). A reuse master asks with the
// stub's terminal, passed to it for that alone.
WindowSize terminal_size(int fd = 0);

}  // namespace k8psh
