#include "reuse_directory.h"

#include "sys.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace k8psh {
namespace {

// Ours, and nobody else's: owner, then no group/other bits.
bool private_to_us(const struct stat &info, std::string &why) {
    if (info.st_uid != geteuid()) {
        why = "owned by uid " + std::to_string(info.st_uid) + ", not " + std::to_string(geteuid());
        return false;
    }
    if ((info.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
        why = std::string("mode ") + mode + " lets others in";
        return false;
    }
    return true;
}

}  // namespace

int open_private_directory(const std::string &path, std::string &why) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
        int error = errno;
        why = path + ": " + (error == ENOTDIR || error == ELOOP ? "not a directory (a symlink?)" : strerror(error));
        errno = error;
        return -1;
    }
    struct stat info {};
    if (fstat(fd.get(), &info) != 0 || !private_to_us(info, why)) {
        why = path + ": " + why;
        fd.reset();
        errno = EPERM;
        return -1;
    }
    return fd.release();
}

int make_private_directory(const std::string &path, std::string &why) {
    if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        why = path + ": " + strerror(errno);
        return -1;
    }
    return open_private_directory(path, why);
}

int open_private_file(int directory, const std::string &name, int flags, std::string &why) {
    UniqueFd fd(openat(directory, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        why = name + ": " + strerror(errno);
        return -1;
    }
    struct stat info {};
    if (fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
        why = name + ": not a regular file";
        return -1;
    }
    if (!private_to_us(info, why)) {
        why = name + ": " + why;
        return -1;
    }
    return fd.release();
}

bool peer_is_us(int socket, std::string &why) {
    ucred peer{};
    socklen_t size = sizeof peer;
    if (getsockopt(socket, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0) {
        why = std::string("no peer credentials: ") + strerror(errno);
        return false;
    }
    if (peer.uid != geteuid()) {
        why = "the socket's owner runs as uid " + std::to_string(peer.uid) + ", not " + std::to_string(geteuid());
        return false;
    }
    return true;
}

int take_master_lock(int directory, const std::string &name) {
    for (;;) {
        std::string why;
        UniqueFd fd(open_private_file(directory, name, O_RDWR | O_CREAT, why));
        if (fd.get() < 0) {
            return -1;
        }
        if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
            return -1;  // another master serves this endpoint
        }
        struct stat locked {};
        struct stat named {};
        if (fstat(fd.get(), &locked) == 0 && fstatat(directory, name.c_str(), &named, AT_SYMLINK_NOFOLLOW) == 0 &&
            locked.st_dev == named.st_dev && locked.st_ino == named.st_ino) {
            return fd.release();
        }
        // Otherwise removed (or replaced) by its previous master between our open and flock:
        // this handle closes, and the loop takes the new file.
    }
}

}  // namespace k8psh
