#pragma once
// The directory of a container's reuse masters ($TMPDIR/k8psh-UID) and what may be trusted in
// it. Whoever controls a socket a stub connects to receives the stub's stdin, stdout and stderr,
// its arguments and environment; the directory's name is computable by anyone. So nothing is
// trusted by name: the directory is judged on an open handle (a symlink or a directory another
// user prepared is never used), every file in it is opened without following symlinks and must
// be ours, and a listening socket must belong to our own uid (SO_PEERCRED).
#include <string>

namespace k8psh {

// Opens the directory (O_NOFOLLOW | O_DIRECTORY) and checks the handle: owned by the effective
// uid, no group or other access. -1 otherwise, with `why` set (errno ENOENT when it is absent).
int open_private_directory(const std::string &path, std::string &why);

// The same after creating it (0700) when it is absent.
int make_private_directory(const std::string &path, std::string &why);

// Opens NAME inside `directory` (flags | O_NOFOLLOW | O_CLOEXEC, created 0600 with O_CREAT) and
// requires a regular file of ours that nobody else may use. -1 otherwise, with `why` set.
int open_private_file(int directory, const std::string &name, int flags, std::string &why);

// True when the process at the other end of a connected unix socket runs as our effective uid.
bool peer_is_us(int socket, std::string &why);

// Takes the master's lock NAME in `directory` for the process's lifetime: -1 when another master
// holds it. After locking, the name must still lead to the locked file: a master that exits
// removes its lock, so a file opened just before that removal is locked in vain (then the
// lock is taken again on whatever the name leads to now).
int take_master_lock(int directory, const std::string &name);

}  // namespace k8psh
