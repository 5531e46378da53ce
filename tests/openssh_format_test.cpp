// OpenSSH's encodings as we write and read them (pki/openssh_format.h): the SSH wire format,
// base64, the "openssh-key-v1" container byte for byte as ssh-keygen writes it, public key and
// known_hosts lines, and the damaged or foreign input each reader must refuse.
#include "openssh_format.h"

#include "keys.h"
#include "temp_dir.h"

#include <cstdlib>
#include <gtest/gtest.h>
#include <stdexcept>
#include <string>
#include <vector>

namespace k8psh {
namespace {

using test::read_file;
using test::TempDir;

bool have_ssh_keygen() {
    return std::system("command -v ssh-keygen >/dev/null 2>&1") == 0;
}

std::span<const unsigned char> bytes_of(std::string_view text) {
    return {reinterpret_cast<const unsigned char *>(text.data()), text.size()};
}

std::string as_text(std::span<const unsigned char> data) {
    return {reinterpret_cast<const char *>(data.data()), data.size()};
}

TEST(OpenSshFormat, WireWriterWritesBigEndianLengthPrefixedStrings) {
    unsigned char buffer[16] = {};
    WireWriter out(buffer);
    out.u32(0x01020304);
    out.string(std::string_view("abc"));
    out.u8(0xff);
    EXPECT_EQ(out.size(), 12u);
    const unsigned char expected[] = {1, 2, 3, 4, 0, 0, 0, 3, 'a', 'b', 'c', 0xff};
    EXPECT_EQ(std::vector<unsigned char>(buffer, buffer + 12), std::vector<unsigned char>(expected, expected + 12));
    // The buffer is sized in advance; writing past it is a programming error, never an overflow.
    EXPECT_THROW(out.string(std::string_view("too long")), std::logic_error);
}

TEST(OpenSshFormat, WireReaderReadsWhatTheWriterWrote) {
    unsigned char buffer[32] = {};
    WireWriter out(buffer);
    out.u32(0xdeadbeef);
    out.string(std::string_view("ssh-ed25519"));
    out.string(std::string_view(""));
    WireReader in(std::span<const unsigned char>(buffer, out.size()));
    std::uint32_t value = 0;
    ASSERT_TRUE(in.u32(value));
    EXPECT_EQ(value, 0xdeadbeefu);
    EXPECT_FALSE(in.string_equals("ssh-rsa"));  // no match consumes nothing
    EXPECT_TRUE(in.string_equals("ssh-ed25519"));
    std::span<const unsigned char> empty;
    ASSERT_TRUE(in.string(empty));
    EXPECT_TRUE(empty.empty());
    EXPECT_TRUE(in.rest().empty());
    EXPECT_FALSE(in.u32(value));
}

TEST(OpenSshFormat, WireReaderConsumesNothingFromShortInput) {
    // A string that claims 10 bytes but has 3.
    const unsigned char data[] = {0, 0, 0, 10, 'a', 'b', 'c'};
    WireReader in(data);
    std::span<const unsigned char> out;
    EXPECT_FALSE(in.string(out));
    EXPECT_EQ(in.rest().size(), sizeof data);
    EXPECT_FALSE(in.bytes(8, out));
    EXPECT_EQ(in.rest().size(), sizeof data);
    ASSERT_TRUE(in.bytes(4, out));
    EXPECT_EQ(as_text(in.rest()), "abc");
}

TEST(OpenSshFormat, Base64MatchesRfc4648) {
    EXPECT_EQ(base64_encode(bytes_of("")), "");
    EXPECT_EQ(base64_encode(bytes_of("f")), "Zg==");
    EXPECT_EQ(base64_encode(bytes_of("fo")), "Zm8=");
    EXPECT_EQ(base64_encode(bytes_of("foo")), "Zm9v");
    EXPECT_EQ(base64_encode(bytes_of("foobar")), "Zm9vYmFy");
    const unsigned char high[] = {0xfb, 0xff};
    EXPECT_EQ(base64_encode(high), "+/8=");
}

TEST(OpenSshFormat, PrivateKeyTextRoundTrips) {
    const auto pair = generate_ed25519();
    const std::string text = openssh_private_key_text(pair, "user@pod", 0x12345678);
    const auto parsed = parse_openssh_private_key(text);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->comment, "user@pod");
    EXPECT_EQ(parsed->checkint, 0x12345678u);
    EXPECT_EQ(parsed->key.public_key, pair.public_key);
    ASSERT_EQ(parsed->key.secret_key.size(), pair.secret_key.size());
    EXPECT_TRUE(std::equal(pair.secret_key.data(), pair.secret_key.data() + pair.secret_key.size(),
                           parsed->key.secret_key.data()));
    // The same inputs give the same text; another check value gives another.
    EXPECT_EQ(openssh_private_key_text(pair, "user@pod", 0x12345678), text);
    EXPECT_NE(openssh_private_key_text(pair, "user@pod", 0x12345679), text);
}

TEST(OpenSshFormat, PublicBase64IsTheMiddleFieldOfThePublicLine) {
    const auto pair = generate_ed25519();
    const std::string base64 = ed25519_public_base64(pair.public_key);
    EXPECT_EQ(openssh_public_key(pair.public_key, "c"), "ssh-ed25519 " + base64 + " c\n");
    EXPECT_EQ(parse_openssh_public_key("ssh-ed25519 " + base64), pair.public_key);
    EXPECT_EQ(parse_openssh_public_key("  ssh-ed25519\t" + base64 + "\r\n"), pair.public_key);
}

TEST(OpenSshFormat, PublicKeyParserRefusesOtherBlobs) {
    // A well-formed blob whose key is 31 bytes, one with bytes after the key, and one of another type.
    unsigned char buffer[64] = {};
    const std::array<unsigned char, 32> key{};
    {
        WireWriter out(buffer);
        out.string(std::string_view("ssh-ed25519"));
        out.string(std::span<const unsigned char>(key.data(), 31));
        EXPECT_FALSE(parse_openssh_public_key("ssh-ed25519 " + base64_encode({buffer, out.size()})));
    }
    {
        WireWriter out(buffer);
        out.string(std::string_view("ssh-ed25519"));
        out.string(key);
        ASSERT_TRUE(parse_openssh_public_key("ssh-ed25519 " + base64_encode({buffer, out.size()})));
        out.u8(0);
        EXPECT_FALSE(parse_openssh_public_key("ssh-ed25519 " + base64_encode({buffer, out.size()})));
    }
    {
        WireWriter out(buffer);
        out.string(std::string_view("ssh-ed25518"));
        out.string(key);
        EXPECT_FALSE(parse_openssh_public_key("ssh-ed25519 " + base64_encode({buffer, out.size()})));
    }
    EXPECT_FALSE(parse_openssh_public_key(""));
    EXPECT_FALSE(parse_openssh_public_key("ssh-ed25519"));
    EXPECT_FALSE(parse_openssh_public_key("ssh-ed25519 not*base64"));
}

// Parsing ssh-keygen's own file and writing it again with the same check value must give the
// same bytes: our writer is ssh-keygen's format, not merely one libssh tolerates.
TEST(OpenSshFormat, MatchesSshKeygenByteForByte) {
    if (!have_ssh_keygen()) {
        GTEST_SKIP() << "ssh-keygen is not installed";
    }
    TempDir dir;
    const std::string path = dir / "reference";
    ASSERT_EQ(std::system(("ssh-keygen -q -t ed25519 -N '' -C 'made by ssh-keygen' -f " + path).c_str()), 0);
    const std::string original = read_file(path);
    const auto parsed = parse_openssh_private_key(original);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->comment, "made by ssh-keygen");
    EXPECT_EQ(openssh_private_key_text(parsed->key, parsed->comment, parsed->checkint), original);
    EXPECT_EQ(openssh_public_key(parsed->key.public_key, parsed->comment), read_file(path + ".pub"));
}

// A stub reads only the header of the client key file (its reuse master's identity): it must
// name the same public key the full parser finds, in our files and in ssh-keygen's.
TEST(OpenSshFormat, PublicHalfFromTheHeaderIsTheParsedKeys) {
    const auto pair = generate_ed25519();
    const std::string ours = openssh_private_key(pair, "a comment long enough to wrap the armoured lines twice over");
    EXPECT_EQ(openssh_private_key_public_half(ours), pair.public_key);
    if (have_ssh_keygen()) {
        TempDir dir;
        const std::string path = dir / "reference";
        ASSERT_EQ(std::system(("ssh-keygen -q -t ed25519 -N '' -C '' -f " + path).c_str()), 0);
        const std::string theirs = read_file(path);
        const auto parsed = parse_openssh_private_key(theirs);
        ASSERT_TRUE(parsed);
        EXPECT_EQ(openssh_private_key_public_half(theirs), parsed->key.public_key);
    }
}

TEST(OpenSshFormat, PublicHalfRefusesWhatIsNotAnEd25519KeyFile) {
    const std::string text = openssh_private_key(generate_ed25519(), "x");
    EXPECT_EQ(openssh_private_key_public_half(""), std::nullopt);
    EXPECT_EQ(openssh_private_key_public_half(text.substr(0, 60)), std::nullopt) << "cut inside the header";
    std::string other_cipher = text;
    const std::size_t body = other_cipher.find('\n') + 1;
    other_cipher[body + 25] = other_cipher[body + 25] == 'A' ? 'B' : 'A';  // inside "none"
    EXPECT_EQ(openssh_private_key_public_half(other_cipher), std::nullopt);
    std::string high_byte = text;
    high_byte[body + 40] = '\xb5';
    EXPECT_EQ(openssh_private_key_public_half(high_byte), std::nullopt);
    EXPECT_EQ(openssh_private_key_public_half(
                  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIzBzPDOWMBVuRr2z9mIs1GZf8+x5OVlIsFr62r3YKdd"),
              std::nullopt);
}

TEST(OpenSshFormat, KnownHostsKeysSkipCommentsAndOtherTypes) {
    const auto ours = ed25519_public_base64(generate_ed25519().public_key);
    const auto other = ed25519_public_base64(generate_ed25519().public_key);
    const std::string text = "# * ssh-ed25519 " + other + "\n" + "* ssh-rsa AAAAB3NzaC1yc2E\n" + "\n" +
                             "  host ssh-ed25519 " + ours + " comment\n" + "*  ssh-ed25519\n" + "* ssh-ed25519 " +
                             other;
    EXPECT_EQ(known_hosts_ed25519_keys(text), (std::vector<std::string>{ours, other}));
}

TEST(OpenSshFormat, SameKeyBase64ComparesWholeFields) {
    EXPECT_TRUE(same_key_base64("AAAA", "AAAA"));
    EXPECT_FALSE(same_key_base64("AAAA", "AAAB"));
    EXPECT_FALSE(same_key_base64("AAAA", "AAAAA"));
    EXPECT_TRUE(same_key_base64("", ""));
}

TEST(OpenSshFormat, ParserRejectsDamagedKeys) {
    const auto pair = generate_ed25519();
    std::string text = openssh_private_key(pair, "x");
    ASSERT_TRUE(parse_openssh_private_key(text));
    EXPECT_FALSE(parse_openssh_private_key(text.substr(0, text.size() / 2)));
    // The seed sits in the middle of the container; any change there breaks the pairing.
    text[text.size() / 2] = text[text.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(parse_openssh_private_key(text));
    EXPECT_FALSE(parse_openssh_public_key("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ"));
}

// Found by tests/fuzz/keyfile_fuzz. libsodium 1.0.18 decodes every byte >= 0x80 as '/' and skips
// NUL bytes as if they were listed as ignored, so a key line or file with such a stray byte in
// its base64 read as a key (the same one, or another) where OpenSSH reads none.
TEST(OpenSshFormat, BytesOutsideTheBase64AlphabetAreRejected) {
    const std::string line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIzBzPDOWMBVuRr2z9mIs1GZf8+x5OVlIsFr62r3YKdd c\n";
    ASSERT_TRUE(parse_openssh_public_key(line));
    std::string damaged = line;
    damaged[damaged.find("z9m") + 1] = '\xb5';  // the fuzzer's reproducer: read as '/', another key
    EXPECT_EQ(parse_openssh_public_key(damaged), std::nullopt);

    // Three 0xff bytes in the comment always put a '/' into the armoured text.
    std::string text = openssh_private_key(generate_ed25519(), "\xff\xff\xff");
    ASSERT_TRUE(parse_openssh_private_key(text));
    const std::size_t slash = text.find('/');
    ASSERT_NE(slash, std::string::npos);
    std::string high_byte = text;
    high_byte[slash] = '\xb5';
    EXPECT_FALSE(parse_openssh_private_key(high_byte));
    std::string nul = text;
    nul.insert(slash, 1, '\0');
    EXPECT_FALSE(parse_openssh_private_key(nul));
}

}  // namespace
}  // namespace k8psh
