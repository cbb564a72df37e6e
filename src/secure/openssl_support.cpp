#include "openssl_support.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include <array>
#include <string_view>

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

namespace {

std::optional<Secret> parse_hex_secret(std::string_view hex) {
  std::array<std::uint8_t, Secret::kMaxSize> bytes{};
  if (hex.size() % 2 != 0 || hex.size() / 2 > bytes.size()) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size() / 2; ++i) {
    const int high = digit(hex[2 * i]);
    const int low = digit(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  auto secret = Secret::from(std::span(bytes).first(hex.size() / 2));
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return secret ? std::optional(*secret) : std::nullopt;
}

}  // namespace

void capture_secret(const SSL* ssl, const char* line) {
  auto* captured = static_cast<CapturedSecrets*>(SSL_get_ex_data(ssl, 0));
  if (captured == nullptr) return;
  const std::string_view text(line);
  const auto first = text.find(' ');
  const auto second = text.find(' ', first + 1);
  if (first == std::string_view::npos || second == std::string_view::npos) return;
  const std::string_view label = text.substr(0, first);
  const std::string_view hex = text.substr(second + 1);
  if (label == "CLIENT_TRAFFIC_SECRET_0") captured->client = parse_hex_secret(hex);
  if (label == "SERVER_TRAFFIC_SECRET_0") captured->server = parse_hex_secret(hex);
}

std::string selected_alpn(const SSL* ssl) {
  const unsigned char* protocol = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(ssl, &protocol, &length);
  return protocol == nullptr ? std::string()
                             : std::string(reinterpret_cast<const char*>(protocol), length);
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
