#include "sys.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace k8psh {
namespace {

[[noreturn]] void throw_create_error(const std::string &path, int error) {
    throw FileError(path + ": cannot create directory: " + std::generic_category().message(error));
}

bool is_directory(const std::string &path) {
    struct stat st {};
    return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// mkdir's mode is reduced by the umask; containers running as other users must still be able
// to enter the directory.
bool make_one_directory(const std::string &path, mode_t mode) {
    if (mkdir(path.c_str(), mode) != 0) {
        return false;
    }
    if (chmod(path.c_str(), mode) != 0) {
        throw_create_error(path, errno);
    }
    return true;
}

// Repeats `step` (a blocking read or send) until `size` bytes moved; false on error or end of
// file, errno says which.
template <typename Byte, typename Step>
bool transfer_all(Byte *data, std::size_t size, Step step) {
    while (size > 0) {
        ssize_t n = step(data, size);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

UniqueFd &UniqueFd::operator=(UniqueFd &&other) noexcept {
    if (this != &other) {
        reset(other.release());
    }
    return *this;
}

int UniqueFd::release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

void UniqueFd::reset(int fd) {
    close_fd(fd_);
    fd_ = fd;
}

void close_fd(int &fd) {
    if (fd >= 0) {
        close(fd);
        fd = -1;
    }
}

bool write_all(int fd, const char *data, std::size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN) {
                pollfd p{fd, POLLOUT, 0};
                poll(&p, 1, -1);
                continue;
            }
            return false;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool send_all(int socket, const char *data, std::size_t size) {
    return transfer_all(data, size,
                        [socket](const char *at, std::size_t left) { return send(socket, at, left, MSG_NOSIGNAL); });
}

bool read_all(int fd, char *data, std::size_t size) {
    return transfer_all(data, size, [fd](char *at, std::size_t left) { return read(fd, at, left); });
}

bool read_file(const std::string &path, std::string &text, std::size_t max_bytes) {
    text.clear();
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        return false;
    }
    // A regular file goes straight into a buffer of its size (a stub reads a configuration of
    // 10,000 commands at every start: no growing and copying); the loop below sees the end.
    struct stat st {};
    if (fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        text.resize(std::min(static_cast<std::size_t>(st.st_size), max_bytes));
        std::size_t got = 0;
        while (got < text.size()) {
            const ssize_t n = read(fd.get(), text.data() + got, text.size() - got);
            if (n == 0) {
                break;
            }
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return false;
            }
            got += static_cast<std::size_t>(n);
        }
        text.resize(got);
    }
    char buffer[16384];
    while (text.size() < max_bytes) {
        ssize_t n = read(fd.get(), buffer, std::min(sizeof buffer, max_bytes - text.size()));
        if (n == 0) {
            return true;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        text.append(buffer, static_cast<std::size_t>(n));
    }
    return true;
}

MappedFile::~MappedFile() {
    if (data_ != nullptr) {
        munmap(data_, size_);
    }
}

bool MappedFile::map(const std::string &path) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (fd.get() < 0 || fstat(fd.get(), &st) != 0) {
        return false;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return false;
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    void *data = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd.get(), 0);
    if (data == MAP_FAILED) {
        return false;
    }
    data_ = data;
    size_ = size;
    return true;
}

void make_directories(const std::string &path, mode_t mode) {
    if (make_one_directory(path, mode)) {
        return;
    }
    int error = errno;
    if (error == ENOENT) {
        const auto parent = std::filesystem::path(path).parent_path();
        if (!parent.empty() && parent != std::filesystem::path(path)) {
            make_directories(parent.string(), mode);
            if (make_one_directory(path, mode)) {
                return;
            }
            error = errno;
        }
    }
    if (error == EEXIST) {
        if (is_directory(path)) {
            return;
        }
        error = ENOTDIR;
    }
    throw_create_error(path, error);
}

std::vector<char *> exec_array(const std::vector<std::string> &strings) {
    std::vector<char *> array;
    array.reserve(strings.size() + 1);
    for (const auto &text : strings) {
        // exec's prototype predates const; it never writes through these.
        array.push_back(const_cast<char *>(text.c_str()));
    }
    array.push_back(nullptr);
    return array;
}

std::string parent_directory(const std::string &path) {
    auto parent = std::filesystem::path(path).parent_path().string();
    return parent.empty() ? "." : parent;
}

}  // namespace k8psh
