#pragma once
// Server-side pseudo-terminals: allocation and size changes for PTY sessions.
#include "window_size.h"

#include <string>

namespace k8psh {

// Owns a master/slave pair. The slave is handed to the command; the server keeps the master.
class Pty {
public:
    Pty() = default;
    ~Pty();
    Pty(const Pty &) = delete;
    Pty &operator=(const Pty &) = delete;

    // Opens a pair of the given size; false (errno set) on failure.
    bool open(const WindowSize &size);
    void resize(const WindowSize &size) const;
    // The server's copy of the slave is closed once the command has it, so the master sees
    // EIO when the command's side is gone.
    void close_slave();
    void close_master();
    int master() const { return master_; }
    int slave() const { return slave_; }
    const std::string &slave_path() const { return slave_path_; }

private:
    int master_ = -1;
    int slave_ = -1;
    std::string slave_path_;
};

}  // namespace k8psh
