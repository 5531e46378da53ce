#pragma once
// OpenSSH encodings of ed25519 keys: the SSH wire format (RFC 4251 uint32/string), base64,
// and the "openssh-key-v1" private key container (PROTOCOL.key in OpenSSH's sources).
#include "keys.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace k8psh {

// A std::string holding secret text (a private key file's contents): wiped when dropped.
struct SecretText {
    std::string text;
    SecretText() = default;
    explicit SecretText(std::string value) : text(std::move(value)) {}
    ~SecretText();
    SecretText(const SecretText &) = delete;
    SecretText &operator=(const SecretText &) = delete;
};

// Writes into a fixed buffer sized in advance, so secret bytes are never copied by a growing
// container that frees its old storage unwiped.
class WireWriter {
public:
    explicit WireWriter(std::span<unsigned char> out) : out_(out) {}
    void bytes(std::span<const unsigned char> data);
    void u8(std::uint8_t value);
    void u32(std::uint32_t value);
    void string(std::span<const unsigned char> data);
    void string(std::string_view text);
    std::size_t size() const { return used_; }

private:
    std::span<unsigned char> out_;
    std::size_t used_ = 0;
};

// Reads the same format; every call returns false (and consumes nothing) when the input is short.
class WireReader {
public:
    explicit WireReader(std::span<const unsigned char> in) : in_(in) {}
    bool bytes(std::size_t count, std::span<const unsigned char> &out);
    bool u32(std::uint32_t &value);
    bool string(std::span<const unsigned char> &out);
    bool string_equals(std::string_view expected);
    std::span<const unsigned char> rest() const { return in_; }

private:
    std::span<const unsigned char> in_;
};

std::string base64_encode(std::span<const unsigned char> data);

// Base64 of the public key blob (string "ssh-ed25519", string key): the middle field of a .pub line.
std::string ed25519_public_base64(const std::array<unsigned char, 32> &public_key);

// The private key file text with a given check value; openssh_private_key() draws it at random.
// Exposed so tests can reproduce an ssh-keygen file byte for byte.
std::string openssh_private_key_text(const Ed25519KeyPair &key, const std::string &comment, std::uint32_t checkint);

struct ParsedPrivateKey {
    Ed25519KeyPair key;
    std::string comment;
    std::uint32_t checkint = 0;
};

// Reads an unencrypted ed25519 "openssh-key-v1" file (ours or ssh-keygen's). nullopt for
// anything else, including keys whose halves do not belong together.
std::optional<ParsedPrivateKey> parse_openssh_private_key(std::string_view text);

// The public half of an "openssh-key-v1" file, read from its unencrypted header alone: nothing
// secret is decoded, and nothing is checked beyond the header (a stub naming its reuse master
// needs the key's identity, not the key). nullopt when the header is not an ed25519 key's.
std::optional<std::array<unsigned char, 32>> openssh_private_key_public_half(std::string_view text);

// Reads "ssh-ed25519 BASE64 [comment]" (a .pub file or the key part of a known_hosts line).
std::optional<std::array<unsigned char, 32>> parse_openssh_public_key(std::string_view line);

// The ed25519 keys a known_hosts text trusts, as their base64 field. Host patterns are ignored
// (the file is the pod's own and names `*`); comment lines and other key types are skipped.
std::vector<std::string> known_hosts_ed25519_keys(std::string_view text);

// Whether two base64 key fields are the same key. Constant time for equal lengths: how long the
// comparison takes must not tell a client how much of the allowed key it guessed.
bool same_key_base64(std::string_view a, std::string_view b);

}  // namespace k8psh
