#include "zcopy/secure/cipher_suite.hpp"

namespace zc::secure {

std::string_view suite_name(CipherSuite suite) noexcept {
  switch (suite) {
    case CipherSuite::aes_128_gcm_sha256:
      return "TLS_AES_128_GCM_SHA256";
    case CipherSuite::aes_256_gcm_sha384:
      return "TLS_AES_256_GCM_SHA384";
    case CipherSuite::chacha20_poly1305_sha256:
      return "TLS_CHACHA20_POLY1305_SHA256";
  }
  return "?";
}

std::uint16_t suite_iana(CipherSuite suite) noexcept {
  switch (suite) {
    case CipherSuite::aes_128_gcm_sha256:
      return 0x1301;
    case CipherSuite::aes_256_gcm_sha384:
      return 0x1302;
    case CipherSuite::chacha20_poly1305_sha256:
      return 0x1303;
  }
  return 0;
}

std::optional<CipherSuite> suite_from_iana(std::uint16_t iana) noexcept {
  switch (iana) {
    case 0x1301:
      return CipherSuite::aes_128_gcm_sha256;
    case 0x1302:
      return CipherSuite::aes_256_gcm_sha384;
    case 0x1303:
      return CipherSuite::chacha20_poly1305_sha256;
    default:
      return std::nullopt;
  }
}

std::size_t suite_key_size(CipherSuite suite) noexcept {
  return suite == CipherSuite::aes_128_gcm_sha256 ? 16 : 32;
}

std::size_t suite_hash_size(CipherSuite suite) noexcept {
  return suite == CipherSuite::aes_256_gcm_sha384 ? 48 : 32;
}

}  // namespace zc::secure
