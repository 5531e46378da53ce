#pragma once
// Per-pod keys (README: Keys and trust): ed25519 pairs made with libsodium, written in OpenSSH formats.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/types.h>

namespace k8psh {

// Private key bytes: locked, guarded memory (libsodium) that is wiped when freed.
class SecretBytes {
public:
    explicit SecretBytes(std::size_t size);
    ~SecretBytes();
    SecretBytes(SecretBytes &&other) noexcept;
    SecretBytes &operator=(SecretBytes &&other) noexcept;
    SecretBytes(const SecretBytes &) = delete;
    SecretBytes &operator=(const SecretBytes &) = delete;
    unsigned char *data() { return data_; }
    const unsigned char *data() const { return data_; }
    std::size_t size() const { return size_; }

private:
    unsigned char *data_ = nullptr;
    std::size_t size_ = 0;
};

struct Ed25519KeyPair {
    std::array<unsigned char, 32> public_key{};
    SecretBytes secret_key{64};  // libsodium layout: seed then public key
};

class KeyError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

Ed25519KeyPair generate_ed25519();

// "-----BEGIN OPENSSH PRIVATE KEY-----" text, unencrypted, as ssh-keygen writes it.
// Returned in SecretBytes-backed storage's spirit: callers write it out and drop it.
std::string openssh_private_key(const Ed25519KeyPair &key, const std::string &comment);
// "ssh-ed25519 AAAA… comment\n"
std::string openssh_public_key(const std::array<unsigned char, 32> &public_key, const std::string &comment);
// "* ssh-ed25519 AAAA…\n": trusts this host key for every host name (the pod's loopback).
std::string known_hosts_line(const std::array<unsigned char, 32> &public_key);

// File names inside a key directory.
inline constexpr const char *kHostKey = "host_ed25519";
inline constexpr const char *kClientKey = "client_ed25519";
inline constexpr const char *kKnownHosts = "known_hosts";

struct KeyDirectoryOptions {
    bool regenerate = false;     // replace existing keys
    std::optional<uid_t> owner;  // chown private keys (pods whose containers run as other users)
    std::optional<gid_t> group;
};

// Creates DIR with host_ed25519{,.pub}, client_ed25519{,.pub}, known_hosts. Existing complete
// keys are kept unless `regenerate`. Never leaves a half-written directory: files are written to
// temporaries and renamed. Private keys are 0600. Returns true when new keys were written.
// Throws KeyError with a one-line message naming the path.
bool ensure_key_directory(const std::string &dir, const KeyDirectoryOptions &options);

// Checks that a key file exists, is readable and not readable by group/others; returns a warning
// line for loose permissions ("" when fine). Throws KeyError naming the file when missing.
std::string check_private_key_file(const std::string &path);

}  // namespace k8psh
