#include "zcopy/secure/record_reader.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <string>

#include "zcopy/core/syscall.hpp"

namespace zc::secure {

Result<UnverifiedRecord> RecordReader::receive(std::span<std::byte> destination) {
  if (!in_body_) {
    while (header_have_ < kRecordHeaderSize) {
      auto n = sys_call({"read", fd_}, [&] {
        return ::read(fd_, header_.data() + header_have_, kRecordHeaderSize - header_have_);
      });
      if (!n) return std::unexpected(n.error());
      if (*n == 0) {
        if (header_have_ == 0)
          return fail(Errc::closed, "receive TLS record", "peer closed the connection");
        return fail(Errc::corrupt, "receive TLS record",
                    "connection closed inside a record header (truncated record)");
      }
      header_have_ += static_cast<std::size_t>(*n);
      bytes_received_ += static_cast<std::uint64_t>(*n);
    }
    auto header = parse_protected_header(header_);
    if (!header) return std::unexpected(header.error());
    if (destination.size() < header->length)
      return fail(Errc::limit_exceeded, "receive TLS record",
                  "buffer holds " + std::to_string(destination.size()) + " bytes, record needs " +
                      std::to_string(header->length));
    body_header_ = header_;
    body_length_ = header->length;
    body_have_ = 0;
    header_have_ = 0;
    in_body_ = true;
  }
  const std::size_t length = body_length_;
  if (destination.size() < length)
    return fail(Errc::invalid_argument, "receive TLS record",
                "a record's body must go on into the buffer it began in");
  while (body_have_ < length) {
    // The rest of the body, and the next header when it is already there.
    iovec parts[2] = {{destination.data() + body_have_, length - body_have_},
                      {header_.data(), kRecordHeaderSize}};
    auto n = sys_call({"readv", fd_}, [&] { return ::readv(fd_, parts, 2); });
    if (!n) return std::unexpected(n.error());
    if (*n == 0)
      return fail(Errc::corrupt, "receive TLS record",
                  "connection closed after " + std::to_string(body_have_) + " of a record's " +
                      std::to_string(length) + " bytes (truncated record)");
    const auto got = static_cast<std::size_t>(*n);
    bytes_received_ += got;
    if (body_have_ + got > length) {
      header_have_ = body_have_ + got - length;
      body_have_ = length;
    } else {
      body_have_ += got;
    }
  }
  in_body_ = false;
  return UnverifiedRecord(body_header_, destination.first(length));
}

}  // namespace zc::secure
