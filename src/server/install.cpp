#include "install.h"

#include "atomic_file.h"
#include "sys.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace k8psh {
namespace {

[[noreturn]] void cannot_read(const std::string &path, int error) {
    throw std::runtime_error(path + ": cannot read: " + std::generic_category().message(error));
}

// Streams `source` into the temporary; a read/write loop works on every filesystem, including
// the overlay and emptyDir volumes where copy_file_range may not.
void copy_into(const std::string &source, AtomicFile &out) {
    const UniqueFd fd(open(source.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        cannot_read(source, errno);
    }
    std::vector<unsigned char> buffer(2 * kIoChunk);
    for (;;) {
        const ssize_t got = read(fd.get(), buffer.data(), buffer.size());
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            cannot_read(source, errno);
        }
        if (got == 0) {
            return;
        }
        out.write(std::span<const unsigned char>(buffer.data(), static_cast<std::size_t>(got)));
    }
}

}  // namespace

void install(const std::string &self, const std::string &destination, const KeyDirectoryOptions &keys) {
    const std::string dir = parent_directory(destination);
    make_directories(dir, 0755);
    {
        // A fresh temporary, renamed over the old file: the result is never a truncated or
        // partly overwritten binary (upstream wrote in place without truncating), and a
        // running k8pshd keeps its old inode.
        AtomicFile out(destination, 0755);
        copy_into(self, out);
        out.commit();
    }
    // A `k8psh` name beside `k8pshd`, so a pod has the client face (`k8psh --check`) too.
    std::string client = dir + "/k8psh";
    if (destination != client) {
        std::string target = destination.substr(destination.find_last_of('/') + 1);
        if (!replace_symlink(target, client)) {
            throw std::runtime_error(client + ": cannot create link: " + strerror(errno));
        }
    }
    sync_directory(dir);
    ensure_key_directory(dir + "/keys", keys);
}

}  // namespace k8psh
