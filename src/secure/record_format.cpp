#include "zcopy/secure/record_format.hpp"

#include <string>

namespace zc::secure {

Result<RecordHeader> parse_protected_header(
    std::span<const std::uint8_t, kRecordHeaderSize> bytes) {
  const auto type = static_cast<ContentType>(bytes[0]);
  const std::size_t length = (std::size_t{bytes[3]} << 8) | bytes[4];
  if (type != ContentType::application_data) {
    std::string what = type == ContentType::alert       ? "an unprotected alert"
                       : type == ContentType::handshake ? "an unprotected handshake record"
                       : type == ContentType::change_cipher_spec
                           ? "a change_cipher_spec after the handshake"
                           : "record type " + std::to_string(bytes[0]);
    return fail(Errc::corrupt, "TLS record header", "peer sent " + what);
  }
  if (bytes[1] != 0x03 || bytes[2] != 0x03)
    return fail(Errc::corrupt, "TLS record header",
                "legacy version " + std::to_string(bytes[1]) + "." + std::to_string(bytes[2]) +
                    " is not 3.3");
  if (length > kMaxCiphertext)
    return fail(Errc::corrupt, "TLS record header",
                "record of " + std::to_string(length) + " bytes exceeds the limit of " +
                    std::to_string(kMaxCiphertext) + " (record_overflow)");
  if (length < kTagSize + 1)
    return fail(Errc::corrupt, "TLS record header",
                "record of " + std::to_string(length) + " bytes cannot hold a type and a tag");
  return RecordHeader{.type = type, .length = static_cast<std::uint16_t>(length)};
}

std::array<std::uint8_t, kRecordHeaderSize> protected_header(std::size_t body_length) noexcept {
  return {static_cast<std::uint8_t>(ContentType::application_data), 0x03, 0x03,
          static_cast<std::uint8_t>(body_length >> 8), static_cast<std::uint8_t>(body_length)};
}

Result<InnerPlaintext> parse_inner_plaintext(std::span<const std::uint8_t> plaintext) {
  std::size_t end = plaintext.size();
  while (end > 0 && plaintext[end - 1] == 0) --end;
  if (end == 0)
    return fail(Errc::corrupt, "TLS record", "inner plaintext has no content type (all padding)");
  const std::size_t content_length = end - 1;
  if (content_length > kMaxPlaintext)
    return fail(
        Errc::corrupt, "TLS record",
        "content of " + std::to_string(content_length) + " bytes exceeds 2^14 (record_overflow)");
  return InnerPlaintext{.type = static_cast<ContentType>(plaintext[end - 1]),
                        .content_length = content_length};
}

}  // namespace zc::secure
