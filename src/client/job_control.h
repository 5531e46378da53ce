#pragma once
// Ctrl-Z and `fg` for a stub (README: Terminal): the stub stops like a local program after
// telling the remote side, and takes the terminal back when it is continued in the foreground.
namespace k8psh {

// Puts the terminal back in its starting modes and stops this process (SIGSTOP). Returns once
// it is continued. The caller has already forwarded the stop to the remote command.
void suspend_self();

// After SIGCONT: raw mode again when the session wants it and this process owns the terminal.
// A stub continued in the background (`bg`) leaves the terminal alone; reading it later stops
// the stub (SIGTTIN), and the `fg` after that brings it here again.
void resume_terminal(bool raw_wanted);

}  // namespace k8psh
