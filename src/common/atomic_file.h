#pragma once
// Files that appear whole or not at all: written to a temporary beside the target, synced,
// then renamed over it. Shared by the key directory and `--install`; symlinks the same way
// (replace_symlink) for the stubs and install's `k8psh` link.
#include "sys.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace k8psh {

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

// Points `link` at `target` in one step (a symlink under a temporary name, renamed over `link`):
// the link is never missing or half-made, and an existing file or link there is replaced. False
// with errno set on failure, the temporary removed; the caller words the error.
bool replace_symlink(const std::string &target, const std::string &link);

// Makes renames inside `dir` durable; best effort (a failure only weakens crash safety).
void sync_directory(const std::string &dir);

}  // namespace k8psh
