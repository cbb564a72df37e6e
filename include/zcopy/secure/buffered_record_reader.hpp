// zcopy/secure/buffered_record_reader.hpp: TLS records received many at a time into one buffer
// the reader owns, each handed out where it arrived, to be opened in place there.
//
// A download's records come back to back; reading them one by one costs a system call (or two)
// per 16 KiB record. This reader asks the descriptor for as much as its buffer holds, so one
// read() brings in whatever the socket has, often dozens of records, and hands them out one after
// another without another call. Each record's header is checked as soon as its five bytes are
// there (an oversized record is refused before its body is awaited); each body stays in the
// buffer, where `open()` turns it into plaintext once its tag verifies.
//
//   BufferedRecordReader reader(socket.get());
//   auto sealed = reader.receive();            // may read the descriptor
//   while (reader.record_waiting()) {          // the next receive() will not: earlier views hold
//     auto next = reader.receive();
//   }
//
// Layout of the buffer: [ handed out | begin_: next record's header, body | partial | end_ ...]
// A receive() that must read first moves the partial record to the front when the room behind
// it could not hold a whole record, so it invalidates every record handed out before it; one made
// while record_waiting() is true never moves or overwrites a byte.
//
// The reader borrows the descriptor (a socket or a pipe). On a non-blocking descriptor `receive`
// returns the EAGAIN error when no whole record is there yet and keeps what it read. Not
// thread-safe: one thread drives it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/secure/record_format.hpp"
#include "zcopy/secure/unverified_record.hpp"

namespace zc::secure {

class BufferedRecordReader {
 public:
  // Up to 64 full records per read: while the last batch was opened and written the socket
  // filled on, and one read takes all of it (measured: fewer CPU seconds per GB than 256 KiB).
  static constexpr std::size_t kDefaultCapacity = 1024 * 1024;

  // `capacity` is raised to kMaxRecordSize when smaller; the buffer is allocated on first use.
  explicit BufferedRecordReader(int fd, std::size_t capacity = kDefaultCapacity) noexcept;

  // The next record, its body in this reader's buffer. Errc::closed when the peer closed the
  // stream cleanly between records, Errc::corrupt for a truncated or malformed record.
  Result<UnverifiedRecord> receive();

  // Whether a whole record is already in the buffer: the next receive() then reads nothing.
  bool record_waiting() const noexcept;
  // Whether any received byte is still unconsumed (a whole record or part of one).
  bool holds_bytes() const noexcept { return begin_ != end_; }

  // Bytes read from the descriptor so far (headers included).
  std::uint64_t bytes_received() const noexcept { return bytes_received_; }

 private:
  // Bytes of the record starting at begin_ (header and body), 0 while its header is incomplete.
  std::size_t whole_record_size() const noexcept;
  Result<void> fill();

  int fd_;
  std::size_t capacity_;
  std::vector<std::byte> buffer_;
  std::size_t begin_ = 0;  // the next record's first header byte
  std::size_t end_ = 0;    // one past the last byte received
  std::uint64_t bytes_received_ = 0;
};

}  // namespace zc::secure
