#pragma once
// The small system helpers every layer needs, in one place: descriptors that close themselves,
// whole writes, directories, the clock deadlines are measured with, the I/O chunk size.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace k8psh {

// Deadlines and durations: monotonic, so a clock step never shortens or stretches a timeout.
using Clock = std::chrono::steady_clock;

// How much one read or one channel write moves at most: big enough for bulk throughput, small
// enough to keep both directions and the signal pipe served in turn.
inline constexpr std::size_t kIoChunk = 64u << 10;

// One-line "PATH: cannot …: reason" failures of the file helpers (here and atomic_file.h).
class FileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Owns a file descriptor: closes it on every exit path (and so releases a flock taken on it).
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd &&other) noexcept : fd_(other.release()) {}
    UniqueFd &operator=(UniqueFd &&other) noexcept;
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;

    int get() const { return fd_; }
    int release();
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// Closes `fd` when it is open and marks it closed (-1), for descriptors kept in plain structs
// that other code reads as ints (a Child's pipes).
void close_fd(int &fd);

// Writes all of `data`, also on a non-blocking fd (waits in poll until it is writable again).
// False on any other error; errno says which.
bool write_all(int fd, const char *data, std::size_t size);

// Sends all of `data` on a socket without raising SIGPIPE when the peer is gone. False on
// error or when the peer closed; errno says which.
bool send_all(int socket, const char *data, std::size_t size);

// Reads exactly `size` bytes from a blocking fd. False on error or end of file first.
bool read_all(int fd, char *data, std::size_t size);

// The contents of a file, at most `max_bytes` of them. False on error; errno says which
// (EISDIR for a directory).
bool read_file(const std::string &path, std::string &text, std::size_t max_bytes = SIZE_MAX);

// A regular file mapped read-only with its pages populated at once: its bytes without a copy
// into fresh memory (on this project's VM each new page of a copy costs tens of microseconds,
// more than parsing it). A file truncated while mapped raises SIGBUS when a page past its new
// end is read: the user of text() says what that means.
class MappedFile {
public:
    MappedFile() = default;
    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    // False when it cannot be mapped (missing, not a regular file, empty, mmap refused); errno says why.
    bool map(const std::string &path);
    std::string_view text() const { return {static_cast<const char *>(data_), size_}; }

private:
    void *data_ = nullptr;
    std::size_t size_ = 0;
};

// `mkdir -p`: directories it creates get exactly `mode` (not reduced by the umask). Throws
// FileError.
void make_directories(const std::string &path, mode_t mode);

// The NULL-terminated array of C strings that exec and posix_spawn take, pointing into `strings`
// (which must outlive it and stay unchanged).
std::vector<char *> exec_array(const std::vector<std::string> &strings);

// The directory part of `path`, "." when it has none.
std::string parent_directory(const std::string &path);

}  // namespace k8psh
