#include "zcopy/secure/buffered_record_reader.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "zcopy/core/syscall.hpp"

namespace zc::secure {

BufferedRecordReader::BufferedRecordReader(int fd, std::size_t capacity) noexcept
    : fd_(fd), capacity_(std::max(capacity, kMaxRecordSize)) {}

std::size_t BufferedRecordReader::whole_record_size() const noexcept {
  if (end_ - begin_ < kRecordHeaderSize) return 0;
  const auto* header = reinterpret_cast<const std::uint8_t*>(buffer_.data() + begin_);
  return kRecordHeaderSize + ((std::size_t{header[3]} << 8) | header[4]);
}

bool BufferedRecordReader::record_waiting() const noexcept {
  const std::size_t whole = whole_record_size();
  return whole != 0 && end_ - begin_ >= whole;
}

Result<UnverifiedRecord> BufferedRecordReader::receive() {
  if (buffer_.empty()) buffer_.resize(capacity_);
  for (;;) {
    if (end_ - begin_ >= kRecordHeaderSize) {
      std::span<const std::uint8_t, kRecordHeaderSize> header(
          reinterpret_cast<const std::uint8_t*>(buffer_.data() + begin_), kRecordHeaderSize);
      auto parsed = parse_protected_header(header);
      if (!parsed) return std::unexpected(parsed.error());
      const std::size_t whole = kRecordHeaderSize + parsed->length;
      if (end_ - begin_ >= whole) {
        UnverifiedRecord record(
            header, std::span(buffer_.data() + begin_ + kRecordHeaderSize, parsed->length));
        begin_ += whole;
        return record;
      }
    }
    if (auto filled = fill(); !filled) return std::unexpected(filled.error());
  }
}

Result<void> BufferedRecordReader::fill() {
  const std::size_t have = end_ - begin_;
  // Room behind begin_ for the largest record; otherwise the partial one moves to the front
  // (at most one record's bytes, once per buffer's worth).
  if (buffer_.size() - begin_ < kMaxRecordSize) {
    if (have > 0) std::memmove(buffer_.data(), buffer_.data() + begin_, have);
    begin_ = 0;
    end_ = have;
  } else if (have == 0) {
    begin_ = end_ = 0;
  }
  auto n = sys_call({"read", fd_},
                    [&] { return ::read(fd_, buffer_.data() + end_, buffer_.size() - end_); });
  if (!n) return std::unexpected(n.error());
  if (*n == 0) {
    if (have == 0) return fail(Errc::closed, "receive TLS record", "peer closed the connection");
    if (have < kRecordHeaderSize)
      return fail(Errc::corrupt, "receive TLS record",
                  "connection closed inside a record header (truncated record)");
    return fail(Errc::corrupt, "receive TLS record",
                "connection closed after " + std::to_string(have - kRecordHeaderSize) +
                    " of a record's " + std::to_string(whole_record_size() - kRecordHeaderSize) +
                    " bytes (truncated record)");
  }
  end_ += static_cast<std::size_t>(*n);
  bytes_received_ += static_cast<std::uint64_t>(*n);
  return {};
}

}  // namespace zc::secure
