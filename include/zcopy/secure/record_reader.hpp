// zcopy/secure/record_reader.hpp: TLS records received straight into the caller's buffer.
//
// `receive(destination)` reads one record: its five-byte header into the reader (checked before
// the body is read, so an oversized record is refused unread), then its body directly into
// `destination`, where decryption in place will turn it into plaintext. The body and the next
// record's header arrive in one readv when the peer has sent them, so a stream of full records
// costs one system call each. The result is an UnverifiedRecord: nothing readable until `open()`.
//
//   RecordReader reader(socket.get());
//   auto sealed = reader.receive(std::span(buffer).subspan(offset));
//
// The reader borrows the descriptor (a socket or a pipe) for its lifetime. On a non-blocking
// descriptor `receive` returns the EAGAIN error when the record is not all there yet and keeps
// what it read: the next call, with the same destination, goes on where it stopped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/record_format.hpp"
#include "zcopy/secure/unverified_record.hpp"

namespace zc::secure {

class RecordReader {
 public:
  explicit RecordReader(int fd) noexcept : fd_(fd) {}

  // The next record, its body in `destination` (which must hold the record's body: any record
  // fits in kMaxCiphertext bytes). Errc::closed when the peer closed the stream cleanly between
  // records, Errc::corrupt for a truncated or malformed record, Errc::limit_exceeded when
  // `destination` is too small for this record.
  Result<UnverifiedRecord> receive(std::span<std::byte> destination);

  // Bytes read from the descriptor so far (headers included).
  std::uint64_t bytes_received() const noexcept { return bytes_received_; }

 private:
  int fd_;
  std::array<std::uint8_t, kRecordHeaderSize> header_{};
  std::size_t header_have_ = 0;  // bytes of the next header already read
  // The record whose body is being read, when a non-blocking read stopped inside it.
  std::array<std::uint8_t, kRecordHeaderSize> body_header_{};
  std::size_t body_length_ = 0;
  std::size_t body_have_ = 0;
  bool in_body_ = false;
  std::uint64_t bytes_received_ = 0;
};

}  // namespace zc::secure
