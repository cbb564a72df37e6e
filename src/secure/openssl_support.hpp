// What the secure module's sources share about OpenSSL: its error queue as one Error line, and
// each suite's EVP algorithms.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <optional>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/cipher_suite.hpp"
#include "zcopy/secure/key_schedule.hpp"

namespace zc::secure {

// Drains OpenSSL's error queue into one Error; `fallback` is the detail when the queue is empty.
Error openssl_error(Errc code, std::string operation, std::string fallback = "OpenSSL failed");

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};

// What the keylog callback fills in during a handshake: the application traffic secrets.
struct CapturedSecrets {
  std::optional<Secret> client;
  std::optional<Secret> server;
};

// The keylog callback: OpenSSL calls it with each secret of a handshake as a key-log line
// ("SERVER_TRAFFIC_SECRET_0 <client random> <secret>"), the one way it shares them. The SSL's
// ex_data slot 0 points at the CapturedSecrets to fill (or is null: nothing is kept).
void capture_secret(const SSL* ssl, const char* line);

// The ALPN protocol a handshake settled on ("http/1.1"), empty when none.
std::string selected_alpn(const SSL* ssl);

const EVP_CIPHER* suite_cipher(CipherSuite suite) noexcept;
const EVP_MD* suite_digest(CipherSuite suite) noexcept;

}  // namespace zc::secure
