#include "zcopy/secure/key_schedule.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include <memory>
#include <vector>

#include "openssl_support.hpp"

namespace zc::secure {

Result<Secret> Secret::from(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxSize)
    return fail(Errc::invalid_argument, "secret", "longer than 48 bytes");
  Secret secret;
  std::copy(bytes.begin(), bytes.end(), secret.bytes_.begin());
  secret.size_ = bytes.size();
  return secret;
}

Secret::~Secret() {
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

bool Secret::operator==(const Secret& other) const noexcept {
  return size_ == other.size_ && CRYPTO_memcmp(bytes_.data(), other.bytes_.data(), size_) == 0;
}

Result<void> hkdf_expand_label(CipherSuite suite, std::span<const std::uint8_t> secret,
                               std::string_view label, std::span<const std::uint8_t> context,
                               std::span<std::uint8_t> out) {
  constexpr std::string_view kPrefix = "tls13 ";
  if (out.size() > 255 || kPrefix.size() + label.size() > 255 || context.size() > 255)
    return fail(Errc::invalid_argument, "HKDF-Expand-Label", "label, context or length too long");
  // struct HkdfLabel { uint16 length; opaque label<7..255>; opaque context<0..255>; }
  std::vector<std::uint8_t> info;
  info.reserve(4 + kPrefix.size() + label.size() + context.size());
  info.push_back(static_cast<std::uint8_t>(out.size() >> 8));
  info.push_back(static_cast<std::uint8_t>(out.size()));
  info.push_back(static_cast<std::uint8_t>(kPrefix.size() + label.size()));
  info.insert(info.end(), kPrefix.begin(), kPrefix.end());
  info.insert(info.end(), label.begin(), label.end());
  info.push_back(static_cast<std::uint8_t>(context.size()));
  info.insert(info.end(), context.begin(), context.end());

  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr),
                                                        &EVP_KDF_free);
  if (!kdf) return std::unexpected(openssl_error(Errc::capability_missing, "EVP_KDF_fetch(HKDF)"));
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()),
                                                                &EVP_KDF_CTX_free);
  if (!ctx) return std::unexpected(openssl_error(Errc::system, "EVP_KDF_CTX_new"));

  int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
  const char* digest = EVP_MD_get0_name(suite_digest(suite));
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
                                        const_cast<std::uint8_t*>(secret.data()), secret.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info.data(), info.size()),
      OSSL_PARAM_construct_end(),
  };
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1)
    return std::unexpected(openssl_error(Errc::system, "HKDF-Expand-Label"));
  return {};
}

Result<TrafficKeys> derive_traffic_keys(CipherSuite suite, const Secret& traffic_secret) {
  std::array<std::uint8_t, Secret::kMaxSize> key{};
  auto wipe = std::unique_ptr<void, void (*)(void*)>(
      key.data(), [](void* p) { OPENSSL_cleanse(p, Secret::kMaxSize); });
  std::span<std::uint8_t> key_out(key.data(), suite_key_size(suite));
  if (auto done = hkdf_expand_label(suite, traffic_secret.bytes(), "key", {}, key_out); !done)
    return std::unexpected(done.error());
  TrafficKeys keys;
  if (auto done = hkdf_expand_label(suite, traffic_secret.bytes(), "iv", {}, keys.iv); !done)
    return std::unexpected(done.error());
  auto secret = Secret::from(key_out);
  if (!secret) return std::unexpected(secret.error());
  keys.key = *secret;
  return keys;
}

Result<Secret> next_traffic_secret(CipherSuite suite, const Secret& traffic_secret) {
  std::array<std::uint8_t, Secret::kMaxSize> next{};
  std::span<std::uint8_t> out(next.data(), suite_hash_size(suite));
  auto done = hkdf_expand_label(suite, traffic_secret.bytes(), "traffic upd", {}, out);
  auto secret = done ? Secret::from(out) : std::unexpected(done.error());
  OPENSSL_cleanse(next.data(), next.size());
  return secret;
}

}  // namespace zc::secure
