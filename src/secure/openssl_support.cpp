#include "openssl_support.hpp"

#include <openssl/err.h>

namespace zc::secure {

Error openssl_error(Errc code, std::string operation, std::string fallback) {
  std::string detail;
  // The last entry is the most specific reason; earlier ones are context we drop to stay on one
  // line.
  while (unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof text);
    const char* reason = ERR_reason_error_string(e);
    detail = reason != nullptr ? reason : text;
  }
  return Error::make(code, std::move(operation), detail.empty() ? std::move(fallback) : detail);
}

const EVP_CIPHER* suite_cipher(CipherSuite suite) noexcept {
  switch (suite) {
    case CipherSuite::aes_128_gcm_sha256:
      return EVP_aes_128_gcm();
    case CipherSuite::aes_256_gcm_sha384:
      return EVP_aes_256_gcm();
    case CipherSuite::chacha20_poly1305_sha256:
      return EVP_chacha20_poly1305();
  }
  return nullptr;
}

const EVP_MD* suite_digest(CipherSuite suite) noexcept {
  return suite == CipherSuite::aes_256_gcm_sha384 ? EVP_sha384() : EVP_sha256();
}

}  // namespace zc::secure
