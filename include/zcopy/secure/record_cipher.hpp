// zcopy/secure/record_cipher.hpp: the AEAD of one direction of a TLS 1.3 connection, in place.
//
// A RecordCipher owns one direction's keys (derived from its traffic secret) and sequence number.
// `seal` encrypts a record's inner plaintext where it lies and writes the tag after it; `open`
// decrypts a record where it lies and verifies its tag. Each record's nonce is the IV XORed with
// the sequence number, which advances by one per record and restarts at 0 after `update_keys()`
// (KeyUpdate), so no (key, nonce) pair is ever used twice:
//
//   auto cipher = RecordCipher::create(CipherSuite::aes_256_gcm_sha384, secret);
//   auto header = record_header(ContentType::application_data, size + kTagSize);
//   auto used = cipher->seal(header, bytes.first(size), tag);   // bytes now hold ciphertext
//
// `open` leaves unverified plaintext behind when a tag fails; callers reach record bytes only
// through UnverifiedRecord::open, which wipes them on that failure.
// Not thread-safe: one thread drives a direction.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/cipher_suite.hpp"
#include "zcopy/secure/key_schedule.hpp"

struct evp_cipher_ctx_st;

namespace zc::secure {

inline constexpr std::size_t kRecordHeaderSize = 5;

// Which key and nonce protected one record; the key appears only as its SHA-256, so a test can
// check that no pair repeats without holding keys.
struct NonceUse {
  std::array<std::uint8_t, 32> key_digest{};
  std::array<std::uint8_t, kIvSize> nonce{};
  auto operator<=>(const NonceUse&) const = default;
};

class RecordCipher {
 public:
  static Result<RecordCipher> create(CipherSuite suite, const Secret& traffic_secret);
  RecordCipher(RecordCipher&& other) noexcept;
  RecordCipher& operator=(RecordCipher&& other) noexcept;
  RecordCipher(const RecordCipher&) = delete;
  RecordCipher& operator=(const RecordCipher&) = delete;
  ~RecordCipher();

  // Encrypts `in_out` in place and writes its tag; `header` is the record header (the AAD).
  Result<NonceUse> seal(std::span<const std::uint8_t, kRecordHeaderSize> header,
                        std::span<std::uint8_t> in_out, std::span<std::uint8_t, kTagSize> tag);
  // Encrypts the inner plaintext `content || type` into `out` (content.size() + 1 bytes) and
  // writes its tag: the cipher reads the content where it lies (a file's mapped pages, say), and
  // its output is the only write of those bytes.
  Result<NonceUse> seal_from(std::span<const std::uint8_t, kRecordHeaderSize> header,
                             std::span<const std::uint8_t> content, std::uint8_t type,
                             std::span<std::uint8_t> out, std::span<std::uint8_t, kTagSize> tag);
  // Decrypts `in_out` in place and verifies `tag`; Errc::rejected when it does not verify (the
  // bytes then hold unverified output the caller must wipe).
  Result<void> open(std::span<const std::uint8_t, kRecordHeaderSize> header,
                    std::span<std::uint8_t> in_out, std::span<const std::uint8_t, kTagSize> tag);

  // Moves to the next generation of keys (KeyUpdate): secret N+1, sequence number 0.
  Result<void> update_keys();

  CipherSuite suite() const noexcept { return suite_; }
  // Records protected with the current keys so far, the next record's sequence number.
  std::uint64_t sequence() const noexcept { return sequence_; }
  // How many KeyUpdates this direction has been through.
  std::uint64_t generation() const noexcept { return generation_; }

 private:
  RecordCipher(CipherSuite suite, evp_cipher_ctx_st* ctx) : suite_(suite), ctx_(ctx) {}
  Result<void> install(const Secret& traffic_secret);
  Result<std::array<std::uint8_t, kIvSize>> next_nonce(const char* operation);

  CipherSuite suite_;
  evp_cipher_ctx_st* ctx_ = nullptr;  // owned; the key is set once per generation
  Secret secret_;
  std::array<std::uint8_t, kIvSize> iv_{};
  std::array<std::uint8_t, 32> key_digest_{};
  std::uint64_t sequence_ = 0;
  std::uint64_t generation_ = 0;
};

}  // namespace zc::secure
