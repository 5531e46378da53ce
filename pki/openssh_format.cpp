#include "openssh_format.h"

#include <algorithm>
#include <cstring>
#include <sodium.h>
#include <sstream>
#include <stdexcept>

namespace k8psh {
namespace {

using namespace std::string_view_literals;

constexpr auto kMagic = "openssh-key-v1\0"sv;  // the NUL is part of the magic
constexpr auto kKeyType = "ssh-ed25519"sv;
constexpr auto kBegin = "-----BEGIN OPENSSH PRIVATE KEY-----"sv;
constexpr auto kEnd = "-----END OPENSSH PRIVATE KEY-----"sv;
constexpr std::size_t kWrapColumns = 70;  // what ssh-keygen writes
constexpr std::size_t kBlockSize = 8;     // cipher "none" pads the private section to 8 bytes

std::span<const unsigned char> as_bytes(std::string_view text) {
    return {reinterpret_cast<const unsigned char *>(text.data()), text.size()};
}

bool equal(std::span<const unsigned char> a, std::span<const unsigned char> b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

constexpr std::size_t string_size(std::size_t payload) {
    return 4 + payload;
}

// The private section: checkints, type, public key, seed||public, comment, padding.
std::size_t private_section_size(const std::string &comment) {
    std::size_t size =
        8 + string_size(kKeyType.size()) + string_size(32) + string_size(64) + string_size(comment.size());
    return size + (kBlockSize - size % kBlockSize) % kBlockSize;
}

// libsodium 1.0.18 (Debian 12) decodes every byte >= 0x80 as '/': its constant-time lookup
// takes a plain, signed char. So only the base64 alphabet (and `ignored`) may reach it.
bool decode_base64(std::string_view text, const char *ignored, std::span<unsigned char> out, std::size_t &size) {
    const bool alphabet_only = std::all_of(text.begin(), text.end(), [&](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
               c == '=' || (ignored != nullptr && c != '\0' && std::strchr(ignored, c) != nullptr);
    });
    return alphabet_only && sodium_base642bin(out.data(), out.size(), text.data(), text.size(), ignored, &size, nullptr,
                                              sodium_base64_VARIANT_ORIGINAL) == 0;
}

constexpr std::size_t kPublicBlobSize = string_size(kKeyType.size()) + string_size(32);

void write_public_blob(WireWriter &out, const std::array<unsigned char, 32> &public_key) {
    out.string(kKeyType);
    out.string(public_key);
}

bool read_public_blob(std::span<const unsigned char> blob, std::array<unsigned char, 32> &public_key) {
    WireReader in(blob);
    std::span<const unsigned char> key;
    if (!in.string_equals(kKeyType) || !in.string(key) || key.size() != 32 || !in.rest().empty()) {
        return false;
    }
    std::copy(key.begin(), key.end(), public_key.begin());
    return true;
}

// The container's header, up to and with its public blob: the magic, no cipher, no kdf, one key.
bool read_header(WireReader &in, std::array<unsigned char, 32> &public_key) {
    std::span<const unsigned char> magic;
    std::uint32_t keys = 0;
    std::span<const unsigned char> public_blob;
    return in.bytes(kMagic.size(), magic) && equal(magic, as_bytes(kMagic)) && in.string_equals("none"sv) &&
           in.string_equals("none"sv) && in.string_equals(""sv) && in.u32(keys) && keys == 1 &&
           in.string(public_blob) && read_public_blob(public_blob, public_key);
}

// Base64 of secret bytes, wrapped into the armoured file text. The unwrapped base64 lives in
// guarded memory; the result string is reserved up front so it never reallocates.
std::string armour(std::span<const unsigned char> blob) {
    const std::size_t encoded_size = sodium_base64_ENCODED_LEN(blob.size(), sodium_base64_VARIANT_ORIGINAL);
    SecretBytes encoded(encoded_size);
    sodium_bin2base64(reinterpret_cast<char *>(encoded.data()), encoded_size, blob.data(), blob.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    const std::string_view base64(reinterpret_cast<const char *>(encoded.data()), encoded_size - 1);
    std::string text;
    text.reserve(kBegin.size() + base64.size() + base64.size() / kWrapColumns + kEnd.size() + 3);
    text.append(kBegin);
    text.push_back('\n');
    for (std::size_t at = 0; at < base64.size(); at += kWrapColumns) {
        text.append(base64.substr(at, kWrapColumns));
        text.push_back('\n');
    }
    text.append(kEnd);
    text.push_back('\n');
    return text;
}

// The decoded container of an armoured private key, in guarded memory.
struct Unarmoured {
    SecretBytes bytes;
    std::size_t size = 0;
};

std::optional<Unarmoured> unarmour(std::string_view text) {
    const auto begin = text.find(kBegin);
    if (begin == std::string_view::npos) {
        return std::nullopt;
    }
    const auto body_start = begin + kBegin.size();
    const auto end = text.find(kEnd, body_start);
    if (end == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view body = text.substr(body_start, end - body_start);
    Unarmoured out{SecretBytes(body.size() / 4 * 3 + 3), 0};
    if (!decode_base64(body, " \t\r\n", std::span<unsigned char>(out.bytes.data(), out.bytes.size()), out.size)) {
        return std::nullopt;
    }
    return out;
}

bool read_private_section(std::span<const unsigned char> section, const std::array<unsigned char, 32> &outer_public,
                          ParsedPrivateKey &parsed) {
    WireReader in(section);
    std::uint32_t check1 = 0;
    std::uint32_t check2 = 0;
    std::span<const unsigned char> public_key;
    std::span<const unsigned char> secret_key;
    std::span<const unsigned char> comment;
    if (section.size() % kBlockSize != 0 || !in.u32(check1) || !in.u32(check2) || check1 != check2 ||
        !in.string_equals(kKeyType) || !in.string(public_key) || !in.string(secret_key) || !in.string(comment)) {
        return false;
    }
    if (!equal(public_key, outer_public) || secret_key.size() != 64 || !equal(secret_key.subspan(32), public_key)) {
        return false;
    }
    const auto padding = in.rest();
    for (std::size_t i = 0; i < padding.size(); ++i) {
        if (padding[i] != static_cast<unsigned char>(i + 1)) {
            return false;
        }
    }
    // The public half must follow from the seed, or the file pairs a key with a stranger's.
    std::array<unsigned char, 32> derived{};
    if (crypto_sign_seed_keypair(derived.data(), parsed.key.secret_key.data(), secret_key.data()) != 0 ||
        !equal(derived, public_key)) {
        return false;
    }
    parsed.key.public_key = outer_public;
    parsed.comment.assign(reinterpret_cast<const char *>(comment.data()), comment.size());
    parsed.checkint = check1;
    return true;
}

}  // namespace

SecretText::~SecretText() {
    sodium_memzero(text.data(), text.size());
}

void WireWriter::bytes(std::span<const unsigned char> data) {
    if (data.size() > out_.size() - used_) {
        throw std::logic_error("WireWriter: buffer sized too small");
    }
    std::copy(data.begin(), data.end(), out_.begin() + static_cast<std::ptrdiff_t>(used_));
    used_ += data.size();
}

void WireWriter::u8(std::uint8_t value) {
    bytes(std::span<const unsigned char>(&value, 1));
}

void WireWriter::u32(std::uint32_t value) {
    const unsigned char be[4] = {static_cast<unsigned char>(value >> 24), static_cast<unsigned char>(value >> 16),
                                 static_cast<unsigned char>(value >> 8), static_cast<unsigned char>(value)};
    bytes(be);
}

void WireWriter::string(std::span<const unsigned char> data) {
    u32(static_cast<std::uint32_t>(data.size()));
    bytes(data);
}

void WireWriter::string(std::string_view text) {
    string(as_bytes(text));
}

bool WireReader::bytes(std::size_t count, std::span<const unsigned char> &out) {
    if (count > in_.size()) {
        return false;
    }
    out = in_.first(count);
    in_ = in_.subspan(count);
    return true;
}

bool WireReader::u32(std::uint32_t &value) {
    std::span<const unsigned char> be;
    if (!bytes(4, be)) {
        return false;
    }
    value = (std::uint32_t{be[0]} << 24) | (std::uint32_t{be[1]} << 16) | (std::uint32_t{be[2]} << 8) | be[3];
    return true;
}

bool WireReader::string(std::span<const unsigned char> &out) {
    const auto saved = in_;
    std::uint32_t size = 0;
    if (!u32(size) || !bytes(size, out)) {
        in_ = saved;
        return false;
    }
    return true;
}

bool WireReader::string_equals(std::string_view expected) {
    const auto saved = in_;
    std::span<const unsigned char> value;
    if (!string(value) || !equal(value, as_bytes(expected))) {
        in_ = saved;
        return false;
    }
    return true;
}

std::string base64_encode(std::span<const unsigned char> data) {
    std::string out(sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data.data(), data.size(), sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();  // the terminating NUL sodium writes
    return out;
}

std::string ed25519_public_base64(const std::array<unsigned char, 32> &public_key) {
    std::array<unsigned char, kPublicBlobSize> blob{};
    WireWriter out(blob);
    write_public_blob(out, public_key);
    return base64_encode(std::span<const unsigned char>(blob.data(), out.size()));
}

std::string openssh_private_key_text(const Ed25519KeyPair &key, const std::string &comment, std::uint32_t checkint) {
    const std::size_t section_size = private_section_size(comment);
    const std::size_t total = kMagic.size() + string_size(4) * 2 + string_size(0) + 4 + string_size(kPublicBlobSize) +
                              string_size(section_size);
    SecretBytes blob(total);
    WireWriter out(std::span<unsigned char>(blob.data(), blob.size()));
    out.bytes(as_bytes(kMagic));
    out.string("none"sv);  // cipher
    out.string("none"sv);  // kdf
    out.string(""sv);      // kdf options
    out.u32(1);            // number of keys
    out.u32(static_cast<std::uint32_t>(kPublicBlobSize));
    write_public_blob(out, key.public_key);

    out.u32(static_cast<std::uint32_t>(section_size));
    const std::size_t section_start = out.size();
    // Equal check values let a reader tell a wrong passphrase from a corrupt file.
    out.u32(checkint);
    out.u32(checkint);
    write_public_blob(out, key.public_key);
    out.string(std::span<const unsigned char>(key.secret_key.data(), key.secret_key.size()));
    out.string(comment);
    for (std::uint8_t pad = 1; (out.size() - section_start) % kBlockSize != 0; ++pad) {
        out.u8(pad);
    }
    return armour(std::span<const unsigned char>(blob.data(), out.size()));
}

std::optional<ParsedPrivateKey> parse_openssh_private_key(std::string_view text) {
    auto decoded = unarmour(text);
    if (!decoded) {
        return std::nullopt;
    }
    WireReader in(std::span<const unsigned char>(decoded->bytes.data(), decoded->size));
    std::array<unsigned char, 32> outer_public{};
    std::span<const unsigned char> section;
    if (!read_header(in, outer_public) || !in.string(section) || !in.rest().empty()) {
        return std::nullopt;
    }
    ParsedPrivateKey parsed;
    if (!read_private_section(section, outer_public, parsed)) {
        return std::nullopt;
    }
    return parsed;
}

std::optional<std::array<unsigned char, 32>> openssh_private_key_public_half(std::string_view text) {
    // The header: magic, cipher, kdf, kdf options, key count, then the public blob. Its base64
    // is decoded up to the blob's end, rounded up to whole quanta: the private section after
    // it stays encoded.
    constexpr std::size_t kHeader =
        kMagic.size() + 2 * string_size(4) + string_size(0) + 4 + string_size(kPublicBlobSize);
    constexpr std::size_t kQuanta = (kHeader + 2) / 3;
    const auto begin = text.find(kBegin);
    if (begin == std::string_view::npos) {
        return std::nullopt;
    }
    char encoded[kQuanta * 4];
    std::size_t used = 0;
    for (std::size_t i = begin + kBegin.size(); i < text.size() && used < sizeof encoded; ++i) {
        const char c = text[i];
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
            encoded[used++] = c;
        }
    }
    unsigned char header[kQuanta * 3];
    std::size_t size = 0;
    if (used != sizeof encoded || !decode_base64(std::string_view(encoded, used), nullptr, header, size)) {
        return std::nullopt;
    }
    WireReader in(std::span<const unsigned char>(header, size));
    std::array<unsigned char, 32> public_key{};
    if (!read_header(in, public_key)) {
        return std::nullopt;
    }
    return public_key;
}

std::optional<std::array<unsigned char, 32>> parse_openssh_public_key(std::string_view line) {
    constexpr auto blanks = " \t\r\n"sv;
    auto next_field = [&]() {
        const auto start = std::min(line.find_first_not_of(blanks), line.size());
        line.remove_prefix(start);
        const auto field = line.substr(0, std::min(line.find_first_of(blanks), line.size()));
        line.remove_prefix(field.size());
        return field;
    };
    if (next_field() != kKeyType) {
        return std::nullopt;
    }
    const auto base64 = next_field();
    unsigned char blob[64];
    std::size_t size = 0;
    if (!decode_base64(base64, nullptr, blob, size)) {
        return std::nullopt;
    }
    std::array<unsigned char, 32> public_key{};
    if (!read_public_blob(std::span<const unsigned char>(blob, size), public_key)) {
        return std::nullopt;
    }
    return public_key;
}

std::vector<std::string> known_hosts_ed25519_keys(std::string_view text) {
    std::istringstream lines{std::string(text)};
    std::vector<std::string> keys;
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream words(line);
        std::string hosts;
        std::string type;
        std::string key;
        if (words >> hosts >> type >> key && hosts[0] != '#' && type == kKeyType) {
            keys.push_back(key);
        }
    }
    return keys;
}

bool same_key_base64(std::string_view a, std::string_view b) {
    return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace k8psh
