// zcopy/secure/record_format.hpp: the TLS 1.3 record on the wire, parsed strictly.
//
// After the handshake every record is a protected one (RFC 8446 §5.2):
//
//   +------+---------+--------+----------------------------------------+---------+
//   | 0x17 | 0x03 03 | length | encrypted inner plaintext              | tag(16) |
//   +------+---------+--------+----------------------------------------+---------+
//   inner plaintext = content || real content type (1 byte) || zero padding
//
// `parse_protected_header` checks the five header bytes before a byte of the body is read, so an
// oversized record (over 2^14 + 256 bytes) is refused before it is received;
// `parse_inner_plaintext` finds the real content type behind the padding of an opened record.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/cipher_suite.hpp"
#include "zcopy/secure/record_cipher.hpp"

namespace zc::secure {

enum class ContentType : std::uint8_t {
  invalid = 0,
  change_cipher_spec = 20,
  alert = 21,
  handshake = 22,
  application_data = 23,
};

inline constexpr std::size_t kMaxPlaintext = std::size_t{1} << 14;
// TLSCiphertext.length may not exceed 2^14 + 256 (RFC 8446 §5.2).
inline constexpr std::size_t kMaxCiphertext = kMaxPlaintext + 256;
// The largest record, header included: what a receive buffer must hold for any record.
inline constexpr std::size_t kMaxRecordSize = kRecordHeaderSize + kMaxCiphertext;

struct RecordHeader {
  ContentType type = ContentType::invalid;
  std::uint16_t length = 0;  // of the body: encrypted inner plaintext and tag
};

// A protected record's header: type application_data, legacy version 0x0303, a length that holds
// at least the content type and the tag and at most kMaxCiphertext. Errc::corrupt otherwise.
Result<RecordHeader> parse_protected_header(std::span<const std::uint8_t, kRecordHeaderSize> bytes);

// The header of a protected record whose body is `body_length` bytes.
std::array<std::uint8_t, kRecordHeaderSize> protected_header(std::size_t body_length) noexcept;

struct InnerPlaintext {
  ContentType type = ContentType::invalid;
  std::size_t content_length = 0;  // the content before the type byte and padding
};

// An opened record's inner plaintext (tag excluded): its real type behind the zero padding and
// the length of its content. Errc::corrupt when it is all zeros or its content exceeds 2^14.
Result<InnerPlaintext> parse_inner_plaintext(std::span<const std::uint8_t> plaintext);

}  // namespace zc::secure
