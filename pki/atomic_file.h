#pragma once
// Files that appear whole or not at all: written to a temporary beside the target, synced,
// then renamed over it. Shared by the key directory and `--install`.
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace k8psh {

// One-line "PATH: cannot …: reason" failures of the helpers below.
class FileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Closes a file descriptor on every exit path (and so releases a flock taken on it).
class ScopedFd {
public:
    explicit ScopedFd(int fd) : fd_(fd) {}
    ~ScopedFd();
    ScopedFd(const ScopedFd &) = delete;
    ScopedFd &operator=(const ScopedFd &) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// `mkdir -p`: directories it creates get exactly `mode` (not reduced by the umask).
void make_directories(const std::string &path, mode_t mode);

// The directory part of `path`, "." when it has none.
std::string parent_directory(const std::string &path);

class AtomicFile {
public:
    // Creates the temporary (O_EXCL, mode 0600 until finish(), so secrets are never exposed).
    AtomicFile(std::string target, mode_t mode);
    // Removes the temporary unless commit() succeeded: an error never leaves one behind.
    ~AtomicFile();
    AtomicFile(const AtomicFile &) = delete;
    AtomicFile &operator=(const AtomicFile &) = delete;

    void write(std::span<const unsigned char> data);
    void write(std::string_view text);
    void set_owner(std::optional<uid_t> owner, std::optional<gid_t> group);
    // Sets the final mode, fsyncs and closes: the content is durable before any name points at it.
    void finish();
    // Renames the finished temporary over the target.
    void commit();

    const std::string &target() const { return target_; }

private:
    [[noreturn]] void fail(const char *action, int error) const;

    std::string target_;
    std::string temp_;
    mode_t mode_;
    int fd_ = -1;
    bool committed_ = false;
};

// Makes renames inside `dir` durable; best effort (a failure only weakens crash safety).
void sync_directory(const std::string &dir);

}  // namespace k8psh
