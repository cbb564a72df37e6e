// zcopy/secure/cipher_suite.hpp: the TLS 1.3 cipher suites our record layer runs itself.
//
// Each suite fixes an AEAD (its key size; every one has a 12-byte nonce and a 16-byte tag) and the
// hash of the key schedule. Suites are known by their IANA number, as OpenSSL reports them:
//
//   std::optional<CipherSuite> suite = suite_from_iana(0x1302);  // TLS_AES_256_GCM_SHA384
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace zc::secure {

enum class CipherSuite : std::uint8_t {
  aes_128_gcm_sha256,        // 0x1301
  aes_256_gcm_sha384,        // 0x1302
  chacha20_poly1305_sha256,  // 0x1303
};

inline constexpr std::size_t kTagSize = 16;

// The RFC name, e.g. "TLS_AES_256_GCM_SHA384".
std::string_view suite_name(CipherSuite suite) noexcept;
std::uint16_t suite_iana(CipherSuite suite) noexcept;
// The suite with that IANA number, when it is one of ours.
std::optional<CipherSuite> suite_from_iana(std::uint16_t iana) noexcept;
std::size_t suite_key_size(CipherSuite suite) noexcept;
// The hash's output size, which is also the size of every secret of the key schedule.
std::size_t suite_hash_size(CipherSuite suite) noexcept;

}  // namespace zc::secure
