#include "zcopy/secure/record_writer.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "zcopy/core/syscall.hpp"

namespace zc::secure {

Result<RecordWriter> RecordWriter::create(int fd, RecordCipher cipher) {
  constexpr std::size_t kStagingSize = kMaxPlaintext + kRecordOverhead;
  // Pinned memory never faults under the cipher; without memlock room it still works unpinned.
  auto staging = Region::create_anonymous(kStagingSize, {.pin = true});
  if (!staging) staging = Region::create_anonymous(kStagingSize);
  if (!staging) return std::unexpected(staging.error());
  return RecordWriter(fd, std::move(cipher), std::move(*staging));
}

Result<SealedRecord> RecordWriter::seal(std::span<std::byte> record_space, std::size_t content_size,
                                        ContentType type) {
  // The content already lies where its ciphertext goes: sealing from there is sealing in place.
  const std::size_t room =
      record_space.size() > kRecordHeaderSize ? record_space.size() - kRecordHeaderSize : 0;
  const std::span<const std::byte> content(record_space.data() + kRecordHeaderSize,
                                           std::min(content_size, room));
  if (content.size() < content_size)
    return fail(Errc::invalid_argument, "seal record",
                "space of " + std::to_string(record_space.size()) + " bytes cannot hold a " +
                    std::to_string(content_size + kRecordOverhead) + "-byte record");
  return seal_from(content, record_space, type);
}

Result<SealedRecord> RecordWriter::seal_from(std::span<const std::byte> content,
                                             std::span<std::byte> record_space, ContentType type) {
  if (content.size() > kMaxPlaintext)
    return fail(Errc::invalid_argument, "seal record",
                std::to_string(content.size()) + " bytes of content exceed 2^14");
  const std::size_t record_size = content.size() + kRecordOverhead;
  if (record_space.size() < record_size)
    return fail(Errc::invalid_argument, "seal record",
                "space of " + std::to_string(record_space.size()) + " bytes cannot hold a " +
                    std::to_string(record_size) + "-byte record");
  auto* bytes = reinterpret_cast<std::uint8_t*>(record_space.data());
  const auto header = protected_header(record_size - kRecordHeaderSize);
  std::memcpy(bytes, header.data(), header.size());
  std::span<std::uint8_t> inner(bytes + kRecordHeaderSize, content.size() + 1);
  auto used = cipher_.seal_from(
      header, std::span(reinterpret_cast<const std::uint8_t*>(content.data()), content.size()),
      static_cast<std::uint8_t>(type), inner,
      std::span<std::uint8_t, kTagSize>(inner.data() + inner.size(), kTagSize));
  if (!used) return std::unexpected(used.error());
  bytes_sealed_ += content.size();
  return SealedRecord{.bytes = record_space.first(record_size), .nonce_use = *used};
}

Result<void> RecordWriter::send(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    auto n = sys_call({"send", fd_},
                      [&] { return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); });
    if (!n && n.error().sys_errno() == ENOTSOCK)
      n = sys_call({"write", fd_}, [&] { return ::write(fd_, bytes.data(), bytes.size()); });
    if (!n) return std::unexpected(n.error());
    bytes = bytes.subspan(static_cast<std::size_t>(*n));
  }
  return {};
}

Result<void> RecordWriter::write(std::span<const std::byte> data, ContentType type) {
  do {
    const std::size_t chunk = std::min(data.size(), kMaxPlaintext);
    std::memcpy(staging_.data() + kRecordHeaderSize, data.data(), chunk);
    auto sealed = seal(staging_.bytes(), chunk, type);
    if (!sealed) return std::unexpected(sealed.error());
    if (auto sent = send(sealed->bytes); !sent) return sent;
    data = data.subspan(chunk);
  } while (!data.empty());
  return {};
}

}  // namespace zc::secure
