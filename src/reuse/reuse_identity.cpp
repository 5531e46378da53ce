#include "reuse_identity.h"

#include "keys.h"
#include "openssh_format.h"
#include "sys.h"

#include <sodium.h>

#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace k8psh {
namespace {

constexpr std::size_t kMaxKeyFileBytes = 64u << 10;  // an ed25519 key file is ~400 bytes

// The namespace file's inode names the namespace; "" where /proc is not mounted (every stub of
// such a container then agrees anyway).
std::string network_namespace() {
    struct stat info {};
    if (stat("/proc/self/ns/net", &info) != 0) {
        return "";
    }
    return std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
}

std::string real_path(const std::string &path) {
    char resolved[PATH_MAX];
    return realpath(path.c_str(), resolved) != nullptr ? resolved : path;
}

// The public half of the client key the master would load: the same directory holding new keys
// is another identity. Read from the file's unencrypted header: every stub pays for this, and
// decoding the private half would cost it guarded memory and a key derivation. "" when the file
// cannot be read or is not a key (the master would fail too).
std::string client_key_fingerprint(const std::string &key_directory) {
    std::string text;
    (void)read_file(key_directory + "/" + kClientKey, text, kMaxKeyFileBytes);
    std::string fingerprint;
    if (auto public_key = openssh_private_key_public_half(text); public_key.has_value()) {
        fingerprint.assign(public_key->begin(), public_key->end());
    }
    sodium_memzero(text.data(), text.size());  // the private key's text, wiped like SecretBytes
    return fingerprint;
}

}  // namespace

std::string master_identity(const ConnectTarget &target, long idle_ms) {
    std::string identity;
    for (const std::string &part :
         {std::to_string(geteuid()), network_namespace(), real_path(target.key_directory),
          client_key_fingerprint(target.key_directory), target.server_name, target.host, std::to_string(target.port),
          std::to_string(target.timeout_ms), std::to_string(idle_ms)}) {
        // Length-prefixed, so no two different lists of parts give the same string.
        identity += std::to_string(part.size()) + ':' + part;
    }
    return identity;
}

}  // namespace k8psh
