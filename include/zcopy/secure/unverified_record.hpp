// zcopy/secure/unverified_record.hpp: received record bytes that nobody may read until their tag
// has verified.
//
// A RecordReader (or a BufferedRecordReader) hands out an UnverifiedRecord: the record's
// ciphertext, already where its plaintext will live. The type has no accessor to those bytes.
// `open()` decrypts them in place and verifies the tag; only then is there a VerifiedRecord, whose
// `content()` is the one view of the plaintext. When the tag fails, `open()` wipes the record's
// bytes (ciphertext and unverified output alike) before it returns the error, so nothing of an
// altered record is left for anyone to find:
//
//   Result<UnverifiedRecord> sealed = reader.receive(buffer);
//   Result<VerifiedRecord> record = std::move(*sealed).open(cipher);
//   if (!record) return record.error();           // buffer's bytes of the record are now zeros
//   write(out, record->content());                 // verified plaintext, in place in `buffer`
//
// Both types borrow the receive buffer; it must outlive them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/record_cipher.hpp"
#include "zcopy/secure/record_format.hpp"

namespace zc::secure {

class RecordReader;
class BufferedRecordReader;

// An opened record: its real content type and its verified content.
class VerifiedRecord {
 public:
  ContentType type() const noexcept { return type_; }
  std::span<const std::byte> content() const noexcept { return content_; }

 private:
  friend class UnverifiedRecord;
  VerifiedRecord(ContentType type, std::span<const std::byte> content)
      : type_(type), content_(content) {}

  ContentType type_;
  std::span<const std::byte> content_;
};

class UnverifiedRecord {
 public:
  UnverifiedRecord(UnverifiedRecord&&) = default;
  UnverifiedRecord& operator=(UnverifiedRecord&&) = default;
  UnverifiedRecord(const UnverifiedRecord&) = delete;
  UnverifiedRecord& operator=(const UnverifiedRecord&) = delete;

  // The body's size on the wire (encrypted inner plaintext and tag).
  std::size_t wire_size() const noexcept { return body_.size(); }

  // Decrypts in place and verifies the tag, then finds the content type behind the padding.
  // On any failure the record's bytes are wiped and the error says why.
  Result<VerifiedRecord> open(RecordCipher& cipher) &&;

  // For a record built from bytes already in memory (a test's or a fuzzer's): `body` is the
  // record after its header.
  static UnverifiedRecord adopt(std::span<const std::uint8_t, kRecordHeaderSize> header,
                                std::span<std::byte> body) noexcept;

 private:
  friend class RecordReader;
  friend class BufferedRecordReader;
  UnverifiedRecord(std::span<const std::uint8_t, kRecordHeaderSize> header,
                   std::span<std::byte> body) noexcept;

  std::array<std::uint8_t, kRecordHeaderSize> header_{};
  std::span<std::byte> body_;
};

}  // namespace zc::secure
