#pragma once
// Starting and ending the commands the server runs. Each command gets its own process group
// (its own session when it has a PTY), so signals reach the whole job and nothing outlives it.
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace k8psh {

struct SpawnRequest {
    std::vector<std::string> argv;                         // argv[0]: see executable_lookup.h
    std::vector<std::pair<std::string, std::string>> env;  // exactly the command's environment
    std::string directory;                                 // working directory
    std::string pty_path;       // non-empty: stdin/stdout/stderr are this terminal, which becomes the controlling one
    bool merge_stderr = false;  // without a PTY: fd 2 is fd 1, one pipe for both (the client's `2>&1`)
};

struct Child {
    pid_t pid = -1;
    int pidfd = -1;     // readable once the process has exited (poll instead of SIGCHLD)
    int stdin_fd = -1;  // ours, non-blocking; -1 in PTY mode
    int stdout_fd = -1;
    int stderr_fd = -1;  // -1 also when stderr shares stdout's pipe
};

// Result of a failed start: the errno and the exit code a shell would give (127 not found, 126 else).
struct SpawnFailure {
    int error = 0;
    int exit_code = 126;
};

// Starts the command with vfork and execve (no page-table copy of the server, no fresh stack).
// Returns false and fills `failure` when the executable cannot be started.
bool spawn_command(const SpawnRequest &request, Child &child, SpawnFailure &failure);

// Sends `signal` to the child's process group (falls back to the pid once the group is gone).
void signal_group(const Child &child, int signal);

// Non-blocking reap; returns true and the wait status once the child has exited.
bool try_reap(Child &child, int &status);

// Blocking reap, for a child that has just been sent SIGKILL.
void reap(Child &child);

// Reaps every exited child that is not a command started by spawn_command: orphans of the
// commands' process trees, re-parented to the server when it is PID 1 or a subreaper. A
// command's own exit status is never taken from the session that waits for it. Does nothing
// after set_orphans_come_here(false).
void reap_orphans();

// Whether this process is where orphans go (PID 1 or a subreaper): elsewhere reap_orphans has
// nothing to find, and the server neither looks for them after each command nor wakes on SIGCHLD.
bool orphans_come_here();
void set_orphans_come_here(bool come_here);

// Closes every fd of the child that is still open (not the process itself).
void close_child_fds(Child &child);

// Shell-style exit code of a wait status: the code, or 128+N for signal N.
int exit_code_of(int status);

}  // namespace k8psh
