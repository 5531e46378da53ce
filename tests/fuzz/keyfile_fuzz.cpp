// Fuzzes the key-file reader (pki/openssh_format). Each input is read four ways: as a private
// key file and as a public key line, and, armoured here, as the binary openssh-key-v1 container
// and the binary public key blob, so mutations reach the wire format behind the base64.
// Properties: a key that parses has the public half the header-only reader finds, and written
// out again parses to the same key, comment and check value, and its own writer's text is a
// fixed point; a public line that parses names its key in canonical base64 and reads back from
// openssh_public_key.
#include "fuzz_check.h"
#include "keys.h"
#include "openssh_format.h"

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace {

using k8psh::ParsedPrivateKey;

bool same_key(const ParsedPrivateKey &a, const ParsedPrivateKey &b) {
    return a.key.public_key == b.key.public_key && a.comment == b.comment && a.checkint == b.checkint &&
           std::equal(a.key.secret_key.data(), a.key.secret_key.data() + 64, b.key.secret_key.data());
}

void check_private(std::string_view text) {
    const auto parsed = k8psh::parse_openssh_private_key(text);
    const auto public_half = k8psh::openssh_private_key_public_half(text);  // the stubs' header-only read
    if (!parsed) {
        return;
    }
    // Whatever the full parser accepts, the header-only reader names the same public key.
    FUZZ_CHECK(public_half && *public_half == parsed->key.public_key);
    // libsodium's layout: the seed's public key is the secret key's second half.
    FUZZ_CHECK(
        std::equal(parsed->key.public_key.begin(), parsed->key.public_key.end(), parsed->key.secret_key.data() + 32));

    const k8psh::SecretText written(k8psh::openssh_private_key_text(parsed->key, parsed->comment, parsed->checkint));
    const auto again = k8psh::parse_openssh_private_key(written.text);
    FUZZ_CHECK(again && same_key(*parsed, *again));
    const k8psh::SecretText rewritten(k8psh::openssh_private_key_text(again->key, again->comment, again->checkint));
    FUZZ_CHECK(rewritten.text == written.text);

    // The writer the key directory uses (a random check value) reads back too.
    const k8psh::SecretText fresh(k8psh::openssh_private_key(parsed->key, parsed->comment));
    const auto from_fresh = k8psh::parse_openssh_private_key(fresh.text);
    FUZZ_CHECK(from_fresh && from_fresh->key.public_key == parsed->key.public_key &&
               from_fresh->comment == parsed->comment);

    FUZZ_CHECK(k8psh::parse_openssh_public_key(k8psh::openssh_public_key(parsed->key.public_key, parsed->comment)) ==
               parsed->key.public_key);
}

// The second blank-separated field of a line.
std::string_view second_field(std::string_view line) {
    constexpr std::string_view blanks = " \t\r\n";
    const size_t first = line.find_first_not_of(blanks);
    const size_t gap = line.find_first_of(blanks, first);
    const size_t start = line.find_first_not_of(blanks, gap);
    if (first == std::string_view::npos || gap == std::string_view::npos || start == std::string_view::npos) {
        return {};
    }
    return line.substr(start, line.find_first_of(blanks, start) - start);
}

void check_public(std::string_view line) {
    const auto key = k8psh::parse_openssh_public_key(line);
    if (!key) {
        return;
    }
    FUZZ_CHECK(second_field(line) == k8psh::ed25519_public_base64(*key));
    FUZZ_CHECK(k8psh::parse_openssh_public_key(k8psh::openssh_public_key(*key, "fuzz")) == key);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text(reinterpret_cast<const char *>(data), size);
    check_private(text);
    check_public(text);

    const std::string base64 = k8psh::base64_encode(std::span<const unsigned char>(data, size));
    const k8psh::SecretText armoured("-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64 +
                                     "\n-----END OPENSSH PRIVATE KEY-----\n");
    check_private(armoured.text);
    check_public("ssh-ed25519 " + base64 + " fuzz");
    return 0;
}
