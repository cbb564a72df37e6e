#include "zcopy/secure/unverified_record.hpp"

#include <openssl/crypto.h>

#include <algorithm>

namespace zc::secure {

UnverifiedRecord::UnverifiedRecord(std::span<const std::uint8_t, kRecordHeaderSize> header,
                                   std::span<std::byte> body) noexcept
    : body_(body) {
  std::copy(header.begin(), header.end(), header_.begin());
}

UnverifiedRecord UnverifiedRecord::adopt(std::span<const std::uint8_t, kRecordHeaderSize> header,
                                         std::span<std::byte> body) noexcept {
  return UnverifiedRecord(header, body);
}

Result<VerifiedRecord> UnverifiedRecord::open(RecordCipher& cipher) && {
  std::span<std::uint8_t> bytes(reinterpret_cast<std::uint8_t*>(body_.data()), body_.size());
  auto wipe = [&] { OPENSSL_cleanse(bytes.data(), bytes.size()); };
  if (bytes.size() < kTagSize + 1) {
    wipe();
    return fail(Errc::corrupt, "open record", "record too short for a type and a tag");
  }
  std::span<std::uint8_t> inner = bytes.first(bytes.size() - kTagSize);
  std::span<const std::uint8_t, kTagSize> tag(bytes.data() + inner.size(), kTagSize);
  if (auto opened = cipher.open(header_, inner, tag); !opened) {
    wipe();
    return std::unexpected(opened.error());
  }
  auto parsed = parse_inner_plaintext(inner);
  if (!parsed) {
    wipe();
    return std::unexpected(parsed.error());
  }
  return VerifiedRecord(parsed->type, body_.first(parsed->content_length));
}

}  // namespace zc::secure
