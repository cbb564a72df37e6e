// zcopy/secure/record_writer.hpp: TLS 1.3 records sealed where they lie and sent.
//
// A record is built in the caller's memory, laid out as it goes on the wire:
//
//   record_space: | header (5) | content ............ | type (1) | tag (16) |
//                               ^ the caller puts the content here (a file's pages, say)
//
// `seal` writes the header and the type byte around the content, encrypts the content and type in
// place and writes the tag, so the cipher's output is the only write of each byte; the span it
// returns is what to send (with `send`, or handed to a zero-copy sender as registered memory).
// `write` is the convenience for small messages: it stages them in the writer's own pinned
// buffer (one copy) and seals and sends them there.
//
//   RecordWriter writer(fd, std::move(cipher));
//   std::span<std::byte> space = writer.staging();              // or any buffer of the caller's
//   std::memcpy(space.data() + kRecordHeaderSize, request.data(), request.size());
//   auto sealed = writer.seal(space, request.size(), ContentType::application_data);
//   writer.send(sealed->bytes);
//
// The writer borrows the descriptor. Not thread-safe: one thread writes.
#pragma once

#include <cstddef>
#include <span>

#include "zcopy/core/error.hpp"
#include "zcopy/mem/region.hpp"
#include "zcopy/secure/record_cipher.hpp"
#include "zcopy/secure/record_format.hpp"

namespace zc::secure {

// Bytes a record adds around its content: header, content type and tag.
inline constexpr std::size_t kRecordOverhead = kRecordHeaderSize + 1 + kTagSize;

struct SealedRecord {
  std::span<const std::byte> bytes;  // the whole record, ready to send
  NonceUse nonce_use;                // which key and nonce protected it
};

class RecordWriter {
 public:
  // `staging` is the writer's own buffer for `write`; pinned when RLIMIT_MEMLOCK allows.
  static Result<RecordWriter> create(int fd, RecordCipher cipher);

  // Seals the record whose `content_size` bytes of content lie at
  // record_space[kRecordHeaderSize...]; record_space must hold content_size + kRecordOverhead.
  Result<SealedRecord> seal(std::span<std::byte> record_space, std::size_t content_size,
                            ContentType type);
  // Seals `content` (at most 2^14 bytes, read where it lies: a file's mapped pages, say) into the
  // record that starts at record_space, which must hold content.size() + kRecordOverhead. The
  // cipher's output is the only write of the content's bytes.
  Result<SealedRecord> seal_from(std::span<const std::byte> content,
                                 std::span<std::byte> record_space, ContentType type);
  // Sends all of `bytes` (blocking).
  Result<void> send(std::span<const std::byte> bytes);
  // Stages `data` in records of at most 2^14 bytes, seals and sends each.
  Result<void> write(std::span<const std::byte> data,
                     ContentType type = ContentType::application_data);

  // The writer's own buffer, room for one record of kMaxPlaintext content.
  std::span<std::byte> staging() noexcept { return staging_.bytes(); }
  bool staging_pinned() const noexcept { return staging_.pinned(); }

  // KeyUpdate for this direction: the next record uses the next generation's keys.
  Result<void> update_keys() { return cipher_.update_keys(); }
  const RecordCipher& cipher() const noexcept { return cipher_; }
  // Content bytes sealed so far (the cipher's passes over outgoing data).
  std::uint64_t bytes_sealed() const noexcept { return bytes_sealed_; }

 private:
  RecordWriter(int fd, RecordCipher cipher, Region staging)
      : fd_(fd), cipher_(std::move(cipher)), staging_(std::move(staging)) {}

  int fd_;
  RecordCipher cipher_;
  Region staging_;
  std::uint64_t bytes_sealed_ = 0;
};

}  // namespace zc::secure
