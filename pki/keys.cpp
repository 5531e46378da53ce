#include "keys.h"

#include "atomic_file.h"
#include "openssh_format.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <memory>
#include <new>
#include <sodium.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>
#include <vector>

namespace k8psh {
namespace {

constexpr const char *kHostComment = "k8psh-host";
constexpr const char *kClientComment = "k8psh-client";
constexpr std::size_t kMaxKeyFileSize = 64 * 1024;  // anything larger is not one of our keys

void ensure_sodium() {
    // sodium_init() is itself thread-safe and idempotent; the static only saves repeated calls.
    static const bool ready = sodium_init() >= 0;
    if (!ready) {
        throw KeyError("libsodium: cannot initialise");
    }
}

std::string reason(int error) {
    return std::generic_category().message(error);
}

// Reads a small file; false when it does not exist. Other failures are errors: a key we may not
// read must not be silently replaced.
bool read_key_file(const std::string &path, std::string &out) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            return false;
        }
        throw KeyError(path + ": cannot read: " + reason(errno));
    }
    out.reserve(kMaxKeyFileSize + 1);  // no reallocation leaves unwiped copies of a private key
    char buffer[4096];
    while (out.size() <= kMaxKeyFileSize) {
        const ssize_t got = read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            const int error = errno;
            sodium_memzero(buffer, sizeof buffer);
            throw KeyError(path + ": cannot read: " + reason(error));
        }
        if (got == 0) {
            break;
        }
        out.append(buffer, std::min(static_cast<std::size_t>(got), kMaxKeyFileSize + 1 - out.size()));
    }
    sodium_memzero(buffer, sizeof buffer);
    return true;
}

std::optional<std::array<unsigned char, 32>> private_key_public_half(const std::string &path) {
    SecretText text;
    if (!read_key_file(path, text.text)) {
        return std::nullopt;
    }
    auto parsed = parse_openssh_private_key(text.text);
    if (!parsed) {
        return std::nullopt;
    }
    return parsed->key.public_key;
}

bool public_key_matches(const std::string &path, const std::array<unsigned char, 32> &expected) {
    std::string text;
    return read_key_file(path, text) && parse_openssh_public_key(text) == expected;
}

bool known_hosts_trusts(const std::string &path, const std::array<unsigned char, 32> &host_key) {
    std::string text;
    if (!read_key_file(path, text)) {
        return false;
    }
    // Parsed as the client reads it, so "complete" means the client will trust this host key.
    const std::string expected = ed25519_public_base64(host_key);
    const auto trusted = known_hosts_ed25519_keys(text);
    return std::find(trusted.begin(), trusted.end(), expected) != trusted.end();
}

// Complete means all five files exist and belong together; a directory left mixed by an
// interrupted earlier run is therefore regenerated rather than trusted.
bool key_directory_complete(const std::string &dir) {
    const auto host = private_key_public_half(dir + "/" + kHostKey);
    const auto client = private_key_public_half(dir + "/" + kClientKey);
    return host && client && public_key_matches(dir + "/" + kHostKey + ".pub", *host) &&
           public_key_matches(dir + "/" + kClientKey + ".pub", *client) &&
           known_hosts_trusts(dir + "/" + kKnownHosts, *host);
}

void write_key_directory(const std::string &dir, const KeyDirectoryOptions &options) {
    const auto host = generate_ed25519();
    const auto client = generate_ed25519();
    // Every file is complete on disk before the first rename, so an error while writing
    // leaves the previous keys untouched (and the temporaries are removed).
    std::vector<std::unique_ptr<AtomicFile>> staged;
    auto stage = [&](const std::string &name, std::string_view content, mode_t mode) {
        auto file = std::make_unique<AtomicFile>(dir + "/" + name, mode);
        file->write(content);
        file->set_owner(options.owner, options.group);
        file->finish();
        staged.push_back(std::move(file));
    };
    {
        const SecretText host_text(openssh_private_key(host, kHostComment));
        stage(kHostKey, host_text.text, 0600);
        const SecretText client_text(openssh_private_key(client, kClientComment));
        stage(kClientKey, client_text.text, 0600);
    }
    stage(std::string(kHostKey) + ".pub", openssh_public_key(host.public_key, kHostComment), 0644);
    stage(std::string(kClientKey) + ".pub", openssh_public_key(client.public_key, kClientComment), 0644);
    stage(kKnownHosts, known_hosts_line(host.public_key), 0644);
    for (auto &file : staged) {
        file->commit();
    }
    sync_directory(dir);
}

}  // namespace

SecretBytes::SecretBytes(std::size_t size) : size_(size) {
    ensure_sodium();
    data_ = static_cast<unsigned char *>(sodium_malloc(size == 0 ? 1 : size));
    if (data_ == nullptr) {
        throw std::bad_alloc();
    }
}

SecretBytes::~SecretBytes() {
    if (data_ != nullptr) {
        sodium_free(data_);  // wipes before releasing
    }
}

SecretBytes::SecretBytes(SecretBytes &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes &SecretBytes::operator=(SecretBytes &&other) noexcept {
    if (this != &other) {
        if (data_ != nullptr) {
            sodium_free(data_);
        }
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

Ed25519KeyPair generate_ed25519() {
    Ed25519KeyPair pair;
    if (crypto_sign_keypair(pair.public_key.data(), pair.secret_key.data()) != 0) {
        throw KeyError("libsodium: cannot generate an ed25519 key");
    }
    return pair;
}

std::string openssh_private_key(const Ed25519KeyPair &key, const std::string &comment) {
    ensure_sodium();
    return openssh_private_key_text(key, comment, randombytes_random());
}

std::string openssh_public_key(const std::array<unsigned char, 32> &public_key, const std::string &comment) {
    std::string line = "ssh-ed25519 " + ed25519_public_base64(public_key);
    if (!comment.empty()) {
        line += " " + comment;
    }
    return line + "\n";
}

std::string known_hosts_line(const std::array<unsigned char, 32> &public_key) {
    return "* " + openssh_public_key(public_key, "");
}

bool ensure_key_directory(const std::string &dir, const KeyDirectoryOptions &options) {
    try {
        make_directories(dir, 0755);
        // Two installs racing in one pod must not interleave their files.
        UniqueFd lock(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (lock.get() < 0 || flock(lock.get(), LOCK_EX) != 0) {
            throw KeyError(dir + ": cannot lock: " + reason(errno));
        }
        if (!options.regenerate && key_directory_complete(dir)) {
            return false;
        }
        write_key_directory(dir, options);
        return true;
    } catch (const FileError &e) {
        throw KeyError(e.what());
    }
}

std::string check_private_key_file(const std::string &path) {
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            throw KeyError(path + ": missing (run k8psh --install to create the pod's keys)");
        }
        throw KeyError(path + ": cannot read: " + reason(errno));
    }
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) {
        throw KeyError(path + ": cannot read: " + reason(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        throw KeyError(path + ": not a regular file");
    }
    if ((st.st_mode & 077) == 0) {
        return "";
    }
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return path + ": private key is readable by group or others (mode " + mode + "); use chmod 600";
}

}  // namespace k8psh
