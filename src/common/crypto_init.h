#pragma once
// OpenSSL and libssh, set up once per process on first need: a stub that hands its command to
// the reuse master (reuse_master.h) never pays for them.
namespace k8psh {

void ensure_crypto_ready();

}  // namespace k8psh
