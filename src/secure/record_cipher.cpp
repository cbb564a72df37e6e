#include "zcopy/secure/record_cipher.hpp"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <limits>
#include <utility>

#include "openssl_support.hpp"

namespace zc::secure {

Result<RecordCipher> RecordCipher::create(CipherSuite suite, const Secret& traffic_secret) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return std::unexpected(openssl_error(Errc::system, "EVP_CIPHER_CTX_new"));
  RecordCipher cipher(suite, ctx);
  if (auto done = cipher.install(traffic_secret); !done) return std::unexpected(done.error());
  return cipher;
}

RecordCipher::RecordCipher(RecordCipher&& other) noexcept
    : suite_(other.suite_),
      ctx_(std::exchange(other.ctx_, nullptr)),
      secret_(other.secret_),
      iv_(other.iv_),
      key_digest_(other.key_digest_),
      sequence_(other.sequence_),
      generation_(other.generation_) {}

RecordCipher& RecordCipher::operator=(RecordCipher&& other) noexcept {
  if (this != &other) {
    EVP_CIPHER_CTX_free(ctx_);
    suite_ = other.suite_;
    ctx_ = std::exchange(other.ctx_, nullptr);
    secret_ = other.secret_;
    iv_ = other.iv_;
    key_digest_ = other.key_digest_;
    sequence_ = other.sequence_;
    generation_ = other.generation_;
  }
  return *this;
}

RecordCipher::~RecordCipher() {
  EVP_CIPHER_CTX_free(ctx_);
  OPENSSL_cleanse(iv_.data(), iv_.size());
}

Result<void> RecordCipher::install(const Secret& traffic_secret) {
  auto keys = derive_traffic_keys(suite_, traffic_secret);
  if (!keys) return std::unexpected(keys.error());
  // The direction (encrypt or decrypt) is chosen per record; the key schedule is set up once.
  if (EVP_CipherInit_ex(ctx_, suite_cipher(suite_), nullptr, keys->key.bytes().data(), nullptr,
                        -1) != 1)
    return std::unexpected(openssl_error(Errc::system, "EVP_CipherInit_ex(key)"));
  unsigned int digest_size = 0;
  if (EVP_Digest(keys->key.bytes().data(), keys->key.size(), key_digest_.data(), &digest_size,
                 EVP_sha256(), nullptr) != 1)
    return std::unexpected(openssl_error(Errc::system, "EVP_Digest(key)"));
  secret_ = traffic_secret;
  iv_ = keys->iv;
  OPENSSL_cleanse(keys->iv.data(), keys->iv.size());
  sequence_ = 0;
  return {};
}

Result<void> RecordCipher::update_keys() {
  auto next = next_traffic_secret(suite_, secret_);
  if (!next) return std::unexpected(next.error());
  if (auto done = install(*next); !done) return done;
  ++generation_;
  return {};
}

Result<std::array<std::uint8_t, kIvSize>> RecordCipher::next_nonce(const char* operation) {
  // RFC 8446 §5.3: the sequence number must not wrap; the connection rekeys long before.
  if (sequence_ == std::numeric_limits<std::uint64_t>::max())
    return fail(Errc::limit_exceeded, operation, "sequence numbers exhausted without a KeyUpdate");
  std::array<std::uint8_t, kIvSize> nonce = iv_;
  for (std::size_t i = 0; i < 8; ++i)
    nonce[kIvSize - 1 - i] ^= static_cast<std::uint8_t>(sequence_ >> (8 * i));
  ++sequence_;
  return nonce;
}

namespace {

bool fits_int(std::size_t size) {
  return size <= static_cast<std::size_t>(std::numeric_limits<int>::max());
}

}  // namespace

Result<NonceUse> RecordCipher::seal(std::span<const std::uint8_t, kRecordHeaderSize> header,
                                    std::span<std::uint8_t> in_out,
                                    std::span<std::uint8_t, kTagSize> tag) {
  if (in_out.empty()) return fail(Errc::invalid_argument, "seal record", "no inner plaintext");
  return seal_from(header, in_out.first(in_out.size() - 1), in_out.back(), in_out, tag);
}

Result<NonceUse> RecordCipher::seal_from(std::span<const std::uint8_t, kRecordHeaderSize> header,
                                         std::span<const std::uint8_t> content, std::uint8_t type,
                                         std::span<std::uint8_t> out,
                                         std::span<std::uint8_t, kTagSize> tag) {
  if (!fits_int(content.size() + 1) || out.size() != content.size() + 1)
    return fail(Errc::invalid_argument, "seal record",
                "output must hold the content and its type byte");
  auto nonce = next_nonce("seal record");
  if (!nonce) return std::unexpected(nonce.error());
  int written = 0;
  int last = 0;
  // The type byte is read before the content is encrypted: when sealing in place, the content's
  // ciphertext never overwrites it (it lies after the content).
  const std::uint8_t type_byte = type;
  if (EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, nonce->data(), 1) != 1 ||
      EVP_CipherUpdate(ctx_, nullptr, &written, header.data(), static_cast<int>(header.size())) !=
          1 ||
      EVP_CipherUpdate(ctx_, out.data(), &written, content.data(),
                       static_cast<int>(content.size())) != 1 ||
      EVP_CipherUpdate(ctx_, out.data() + written, &last, &type_byte, 1) != 1 ||
      EVP_CipherFinal_ex(ctx_, out.data() + written + last, &last) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kTagSize), tag.data()) != 1)
    return std::unexpected(openssl_error(Errc::system, "seal record"));
  return NonceUse{.key_digest = key_digest_, .nonce = *nonce};
}

Result<void> RecordCipher::open(std::span<const std::uint8_t, kRecordHeaderSize> header,
                                std::span<std::uint8_t> in_out,
                                std::span<const std::uint8_t, kTagSize> tag) {
  if (!fits_int(in_out.size()))
    return fail(Errc::invalid_argument, "open record", "record too large");
  const std::uint64_t sequence = sequence_;
  auto nonce = next_nonce("open record");
  if (!nonce) return std::unexpected(nonce.error());
  int out = 0;
  if (EVP_CipherInit_ex(ctx_, nullptr, nullptr, nullptr, nonce->data(), 0) != 1 ||
      EVP_CipherUpdate(ctx_, nullptr, &out, header.data(), static_cast<int>(header.size())) != 1 ||
      EVP_CipherUpdate(ctx_, in_out.data(), &out, in_out.data(), static_cast<int>(in_out.size())) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kTagSize),
                          const_cast<std::uint8_t*>(tag.data())) != 1)
    return std::unexpected(openssl_error(Errc::system, "open record"));
  if (EVP_CipherFinal_ex(ctx_, in_out.data() + out, &out) != 1) {
    ERR_clear_error();
    return fail(Errc::rejected, "open record " + std::to_string(sequence),
                "authentication tag does not verify (the record was altered, dropped, replayed "
                "or reordered)");
  }
  return {};
}

}  // namespace zc::secure
