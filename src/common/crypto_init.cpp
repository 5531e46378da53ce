#include "crypto_init.h"

#include <libssh/libssh.h>
#include <openssl/crypto.h>

#include <mutex>

namespace k8psh {

void ensure_crypto_ready() {
    static std::once_flag once;
    std::call_once(once, [] {
        // No openssl.cnf: nothing in it applies to us, reading it costs start-up time on every
        // stub, and an image's own OpenSSL configuration must not change our crypto.
        // Nor the table of every cipher and digest: libssh fetches the few it uses by name.
        OPENSSL_init_crypto(
            OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS | OPENSSL_INIT_NO_ADD_ALL_DIGESTS, nullptr);
        ssh_init();
    });
}

}  // namespace k8psh
