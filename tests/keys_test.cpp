#include "keys.h"
#include "openssh_format.h"
#include "temp_dir.h"

#include <cstdio>
#include <string>
#include <gtest/gtest.h>
#include <libssh/libssh.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace k8psh {
namespace {

using test::file_mode;
using test::list_directory;
using test::read_file;
using test::TempDir;
using test::write_file;

const std::set<std::string> kKeyFiles = {"client_ed25519", "client_ed25519.pub", "host_ed25519", "host_ed25519.pub",
                                         "known_hosts"};

// Owns an ssh_key so failed assertions do not leak it.
struct SshKey {
    ssh_key key = nullptr;
    ~SshKey() { ssh_key_free(key); }
};

bool have_ssh_keygen() {
    return std::system("command -v ssh-keygen >/dev/null 2>&1") == 0;
}

std::string run(const std::string &command) {
    std::string output;
    FILE *pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        return output;
    }
    char buffer[512];
    while (fgets(buffer, sizeof buffer, pipe) != nullptr) {
        output += buffer;
    }
    pclose(pipe);
    return output;
}

// "ssh-ed25519 BASE64" without the comment.
std::string key_fields(const std::string &line) {
    const auto second_space = line.find(' ', line.find(' ') + 1);
    return line.substr(0, std::min(second_space, line.find('\n')));
}

std::string public_base64(const ssh_key key) {
    char *b64 = nullptr;
    if (ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK) {
        return "";
    }
    std::string out(b64);
    ssh_string_free_char(b64);
    return out;
}

TEST(KeysFormat, PrivateKeyImportsIntoLibssh) {
    const auto pair = generate_ed25519();
    const std::string text = openssh_private_key(pair, "k8psh test");
    SshKey key;
    ASSERT_EQ(ssh_pki_import_privkey_base64(text.c_str(), nullptr, nullptr, nullptr, &key.key), SSH_OK);
    EXPECT_EQ(ssh_key_type(key.key), SSH_KEYTYPE_ED25519);
    EXPECT_TRUE(ssh_key_is_private(key.key));
    EXPECT_EQ("ssh-ed25519 " + public_base64(key.key), key_fields(openssh_public_key(pair.public_key, "")));
}

TEST(KeysFormat, ArmourWrapsBase64At70Columns) {
    const auto text = openssh_private_key(generate_ed25519(), "a comment long enough to need several lines");
    std::istringstream lines(text);
    std::vector<std::string> all;
    for (std::string line; std::getline(lines, line);) {
        all.push_back(line);
    }
    ASSERT_GE(all.size(), 4u);
    EXPECT_EQ(all.front(), "-----BEGIN OPENSSH PRIVATE KEY-----");
    EXPECT_EQ(all.back(), "-----END OPENSSH PRIVATE KEY-----");
    for (std::size_t i = 1; i + 2 < all.size(); ++i) {
        EXPECT_EQ(all[i].size(), 70u) << "line " << i;
    }
    EXPECT_LE(all[all.size() - 2].size(), 70u);
    EXPECT_EQ(text.back(), '\n');
}

TEST(KeysFormat, PublicKeyAndKnownHostsLines) {
    const auto pair = generate_ed25519();
    const auto pub = openssh_public_key(pair.public_key, "k8psh-host");
    EXPECT_EQ(pub.rfind("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI", 0), 0u) << pub;
    EXPECT_EQ(pub.substr(pub.size() - 12), " k8psh-host\n");
    EXPECT_EQ(parse_openssh_public_key(pub), pair.public_key);
    EXPECT_EQ(known_hosts_line(pair.public_key), "* " + key_fields(pub) + "\n");
}

TEST(KeysSecretBytes, MovesOwnership) {
    SecretBytes a(16);
    a.data()[0] = 42;
    SecretBytes b(std::move(a));
    EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
    EXPECT_EQ(b.size(), 16u);
    EXPECT_EQ(b.data()[0], 42);
    SecretBytes c(4);
    c = std::move(b);
    EXPECT_EQ(c.size(), 16u);
    EXPECT_EQ(c.data()[0], 42);
}

TEST(KeysDirectory, WritesFiveFilesThatBelongTogether) {
    TempDir tmp;
    const std::string dir = tmp / "nested/keys";
    const mode_t old_umask = umask(077);  // must not narrow the public files or the directory
    const bool created = ensure_key_directory(dir, {});
    umask(old_umask);
    ASSERT_TRUE(created);
    EXPECT_EQ(list_directory(dir), kKeyFiles);
    EXPECT_EQ(file_mode(dir), 0755u);
    EXPECT_EQ(file_mode(tmp / "nested"), 0755u);
    for (const char *name : {kHostKey, kClientKey}) {
        const std::string path = dir + "/" + name;
        EXPECT_EQ(file_mode(path), 0600u) << path;
        EXPECT_EQ(file_mode(path + ".pub"), 0644u) << path;
        SshKey private_key;
        SshKey public_key;
        ASSERT_EQ(ssh_pki_import_privkey_file(path.c_str(), nullptr, nullptr, nullptr, &private_key.key), SSH_OK);
        ASSERT_EQ(ssh_pki_import_pubkey_file((path + ".pub").c_str(), &public_key.key), SSH_OK);
        EXPECT_EQ(ssh_key_cmp(private_key.key, public_key.key, SSH_KEY_CMP_PUBLIC), 0) << path;
        EXPECT_EQ(check_private_key_file(path), "");
    }
    EXPECT_EQ(file_mode(dir + "/known_hosts"), 0644u);
    EXPECT_EQ(read_file(dir + "/known_hosts"), "* " + key_fields(read_file(dir + "/host_ed25519.pub")) + "\n");
    EXPECT_NE(read_file(dir + "/host_ed25519"), read_file(dir + "/client_ed25519"));
}

TEST(KeysDirectory, SshKeygenReadsThePrivateKeys) {
    if (!have_ssh_keygen()) {
        GTEST_SKIP() << "ssh-keygen is not installed";
    }
    TempDir tmp;
    const std::string dir = tmp / "keys";
    ensure_key_directory(dir, {});
    for (const char *name : {kHostKey, kClientKey}) {
        const std::string path = dir + "/" + name;
        EXPECT_EQ(key_fields(run("ssh-keygen -y -f " + path)), key_fields(read_file(path + ".pub"))) << path;
    }
}

TEST(KeysDirectory, KeepsExistingKeysUnlessRegenerating) {
    TempDir tmp;
    const std::string dir = tmp / "keys";
    ASSERT_TRUE(ensure_key_directory(dir, {}));
    const std::string host = read_file(dir + "/host_ed25519");
    const std::string client = read_file(dir + "/client_ed25519");
    EXPECT_FALSE(ensure_key_directory(dir, {}));
    EXPECT_EQ(read_file(dir + "/host_ed25519"), host);
    EXPECT_EQ(read_file(dir + "/client_ed25519"), client);

    KeyDirectoryOptions regenerate;
    regenerate.regenerate = true;
    EXPECT_TRUE(ensure_key_directory(dir, regenerate));
    EXPECT_NE(read_file(dir + "/host_ed25519"), host);
    EXPECT_NE(read_file(dir + "/client_ed25519"), client);
    EXPECT_EQ(list_directory(dir), kKeyFiles);
}

TEST(KeysDirectory, ReplacesIncompleteOrMismatchedKeys) {
    TempDir tmp;
    const std::string dir = tmp / "keys";
    ASSERT_TRUE(ensure_key_directory(dir, {}));
    std::filesystem::remove(dir + "/known_hosts");
    EXPECT_TRUE(ensure_key_directory(dir, {}));
    EXPECT_EQ(list_directory(dir), kKeyFiles);

    // A .pub that belongs to another key (a mixed directory) is not trusted either.
    write_file(dir + "/host_ed25519.pub", read_file(dir + "/client_ed25519.pub"));
    EXPECT_TRUE(ensure_key_directory(dir, {}));
    write_file(dir + "/client_ed25519", "not a key\n");
    EXPECT_TRUE(ensure_key_directory(dir, {}));
    EXPECT_FALSE(ensure_key_directory(dir, {}));
}

TEST(KeysDirectory, PathUnderRegularFileIsAKeyError) {
    TempDir tmp;
    write_file(tmp / "file", "x");
    try {
        ensure_key_directory(tmp / "file/keys", {});
        FAIL() << "expected KeyError";
    } catch (const KeyError &e) {
        EXPECT_EQ(std::string(e.what()), tmp / "file/keys: cannot create directory: Not a directory");
    }
}

// A rename that fails part way (here: a directory squats on a file name) reports the file and
// removes every temporary still pending.
TEST(KeysDirectory, FailedWriteLeavesNoTemporaries) {
    TempDir tmp;
    const std::string dir = tmp / "keys";
    std::filesystem::create_directories(dir + "/host_ed25519.pub/occupied");
    try {
        ensure_key_directory(dir, {});
        FAIL() << "expected KeyError";
    } catch (const KeyError &e) {
        EXPECT_EQ(std::string(e.what()), dir + "/host_ed25519.pub: cannot write: Is a directory");
    }
    for (const auto &name : list_directory(dir)) {
        EXPECT_EQ(name.find(".tmp"), std::string::npos) << name;
    }
}

TEST(KeysDirectory, ReadOnlyDirectoryIsAKeyError) {
    if (geteuid() == 0) {
        GTEST_SKIP() << "running as root: permission bits do not bind (see PathUnderRegularFileIsAKeyError)";
    }
    TempDir tmp;
    const std::string dir = tmp / "keys";
    std::filesystem::create_directory(dir);
    chmod(dir.c_str(), 0555);
    try {
        ensure_key_directory(dir, {});
        FAIL() << "expected KeyError";
    } catch (const KeyError &e) {
        EXPECT_EQ(std::string(e.what()), dir + "/host_ed25519: cannot write: Permission denied");
    }
    EXPECT_TRUE(list_directory(dir).empty());
}

TEST(KeysDirectory, ChownsFilesWhenAsked) {
    if (geteuid() != 0) {
        GTEST_SKIP() << "chown to another user needs root";
    }
    TempDir tmp;
    const std::string dir = tmp / "keys";
    KeyDirectoryOptions options;
    options.owner = 65534;
    options.group = 65534;
    ASSERT_TRUE(ensure_key_directory(dir, options));
    for (const auto &name : kKeyFiles) {
        struct stat st {};
        ASSERT_EQ(stat(std::string(dir).append("/").append(name).c_str(), &st), 0);
        EXPECT_EQ(st.st_uid, 65534u) << name;
        EXPECT_EQ(st.st_gid, 65534u) << name;
    }
}

// A key we may not read is someone else's to manage: replacing it would lock their pod out.
TEST(KeysDirectory, UnreadableKeyIsAnErrorNotReplaced) {
    if (geteuid() == 0) {
        GTEST_SKIP() << "running as root: permission bits do not bind";
    }
    TempDir tmp;
    const std::string dir = tmp / "keys";
    ASSERT_TRUE(ensure_key_directory(dir, {}));
    const std::string host = read_file(dir + "/host_ed25519");
    chmod((dir + "/host_ed25519").c_str(), 0);
    try {
        ensure_key_directory(dir, {});
        FAIL() << "expected KeyError";
    } catch (const KeyError &e) {
        EXPECT_EQ(std::string(e.what()), dir + "/host_ed25519: cannot read: Permission denied");
    }
    chmod((dir + "/host_ed25519").c_str(), 0600);
    EXPECT_EQ(read_file(dir + "/host_ed25519"), host);
}

TEST(KeysCheck, WarnsAboutLoosePermissionsAndMissingFiles) {
    TempDir tmp;
    const std::string path = tmp / "host_ed25519";
    write_file(path, "key");
    chmod(path.c_str(), 0644);
    EXPECT_EQ(check_private_key_file(path),
              path + ": private key is readable by group or others (mode 0644); use chmod 600");
    chmod(path.c_str(), 0600);
    EXPECT_EQ(check_private_key_file(path), "");
    try {
        check_private_key_file(tmp / "absent");
        FAIL() << "expected KeyError";
    } catch (const KeyError &e) {
        EXPECT_EQ(std::string(e.what()).rfind(tmp / "absent: missing (run k8psh --install", 0), 0u) << e.what();
    }
}

}  // namespace
}  // namespace k8psh
