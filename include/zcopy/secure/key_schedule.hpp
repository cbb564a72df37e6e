// zcopy/secure/key_schedule.hpp: TLS 1.3 traffic secrets turned into record keys (RFC 8446 §7).
//
// Once a handshake has produced a traffic secret, everything the record layer needs follows from
// HKDF-Expand-Label: the write key and IV of each direction (§7.3) and, on KeyUpdate, the next
// generation of the secret (§7.2):
//
//   zc::Result<zc::secure::TrafficKeys> keys =
//       zc::secure::derive_traffic_keys(CipherSuite::aes_128_gcm_sha256, secret);
//   zc::Result<zc::secure::Secret> next =
//       zc::secure::next_traffic_secret(CipherSuite::aes_128_gcm_sha256, secret);
//
// Secrets and keys are wiped when they go out of scope.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/cipher_suite.hpp"

namespace zc::secure {

// Secret or key bytes of up to 48 bytes (SHA-384's output), wiped on destruction.
class Secret {
 public:
  static constexpr std::size_t kMaxSize = 48;

  Secret() = default;
  // Fails when `bytes` is longer than kMaxSize.
  static Result<Secret> from(std::span<const std::uint8_t> bytes);
  Secret(const Secret& other) = default;
  Secret& operator=(const Secret& other) = default;
  ~Secret();

  std::span<const std::uint8_t> bytes() const noexcept { return {bytes_.data(), size_}; }
  std::size_t size() const noexcept { return size_; }
  bool operator==(const Secret& other) const noexcept;

 private:
  std::array<std::uint8_t, kMaxSize> bytes_{};
  std::size_t size_ = 0;
};

// The per-record nonce is the IV XORed with the sequence number (RFC 8446 §5.3).
inline constexpr std::size_t kIvSize = 12;

// The write key and IV of one direction at one key generation.
struct TrafficKeys {
  Secret key;
  std::array<std::uint8_t, kIvSize> iv{};
};

// HKDF-Expand-Label(secret, label, context, length) with the suite's hash; `label` without the
// "tls13 " prefix, which is added here. `length` is at most 255 bytes.
Result<void> hkdf_expand_label(CipherSuite suite, std::span<const std::uint8_t> secret,
                               std::string_view label, std::span<const std::uint8_t> context,
                               std::span<std::uint8_t> out);

// [sender]_write_key and [sender]_write_iv of `traffic_secret` (RFC 8446 §7.3).
Result<TrafficKeys> derive_traffic_keys(CipherSuite suite, const Secret& traffic_secret);

// application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length).
Result<Secret> next_traffic_secret(CipherSuite suite, const Secret& traffic_secret);

}  // namespace zc::secure
