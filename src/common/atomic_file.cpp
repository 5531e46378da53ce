#include "atomic_file.h"

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace k8psh {
namespace {

[[noreturn]] void throw_error(const std::string &path, const char *action, int error) {
    throw FileError(path + ": cannot " + action + ": " + std::generic_category().message(error));
}

}  // namespace

AtomicFile::AtomicFile(std::string target, mode_t mode) : target_(std::move(target)), mode_(mode) {
    const std::filesystem::path path(target_);
    const auto dir = parent_directory(target_);
    // Hidden and unique: never mistaken for the real file, never clashes with a concurrent writer.
    std::string name = dir + "/." + path.filename().string() + ".tmpXXXXXX";
    std::vector<char> buffer(name.begin(), name.end());
    buffer.push_back('\0');
    fd_ = mkostemp(buffer.data(), O_CLOEXEC);
    if (fd_ < 0) {
        fail("write", errno);
    }
    temp_.assign(buffer.data());
}

AtomicFile::~AtomicFile() {
    close_fd(fd_);
    if (!committed_ && !temp_.empty()) {
        unlink(temp_.c_str());
    }
}

void AtomicFile::fail(const char *action, int error) const {
    throw_error(target_, action, error);
}

void AtomicFile::write(std::span<const unsigned char> data) {
    while (!data.empty()) {
        const ssize_t written = ::write(fd_, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail("write", errno);
        }
        data = data.subspan(static_cast<std::size_t>(written));
    }
}

void AtomicFile::write(std::string_view text) {
    write(std::span<const unsigned char>(reinterpret_cast<const unsigned char *>(text.data()), text.size()));
}

void AtomicFile::set_owner(std::optional<uid_t> owner, std::optional<gid_t> group) {
    if (!owner && !group) {
        return;
    }
    if (fchown(fd_, owner.value_or(static_cast<uid_t>(-1)), group.value_or(static_cast<gid_t>(-1))) != 0) {
        fail("change owner", errno);
    }
}

void AtomicFile::finish() {
    // fchmod, not the creation mode: the umask must not narrow a 0644/0755 file.
    if (fchmod(fd_, mode_) != 0 || fsync(fd_) != 0) {
        fail("write", errno);
    }
    // Closed by hand, not by close_fd: an error from close() is a write error here (NFS).
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) {
        fail("write", errno);
    }
}

void AtomicFile::commit() {
    if (fd_ >= 0) {
        finish();
    }
    if (rename(temp_.c_str(), target_.c_str()) != 0) {
        fail("write", errno);
    }
    committed_ = true;
}

bool replace_symlink(const std::string &target, const std::string &link) {
    // The pid keeps two processes replacing the same link from sharing a temporary.
    const std::string temporary = link + ".k8psh-tmp." + std::to_string(getpid());
    unlink(temporary.c_str());
    if (symlink(target.c_str(), temporary.c_str()) != 0 || rename(temporary.c_str(), link.c_str()) != 0) {
        const int error = errno;
        unlink(temporary.c_str());
        errno = error;
        return false;
    }
    return true;
}

void sync_directory(const std::string &dir) {
    const UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) {
        fsync(fd.get());
    }
}

}  // namespace k8psh
