// src/core/netlink.hpp: just enough netlink to ask the kernel about network devices (the generic
// netlink "netdev" family) and to make a veth pair for a probe (rtnetlink), without libnl.
//
// Messages are built in a byte vector with nested attributes; replies are walked with bounds
// checks on every length, so a short or malformed reply is an error, never a read past the end.
#pragma once

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::netlink {

// One netlink request under construction: the nlmsghdr, a fixed family header, attributes.
class Message {
 public:
  Message(std::uint16_t type, std::uint16_t flags, std::span<const std::byte> family_header);

  Message& put(std::uint16_t type, std::span<const std::byte> value);
  Message& put_string(std::uint16_t type, std::string_view text);  // NUL-terminated
  Message& put_u32(std::uint16_t type, std::uint32_t value);
  // Opens a nested attribute; the matching end_nest() fixes its length.
  std::size_t begin_nest(std::uint16_t type);
  void end_nest(std::size_t start);
  // Raw bytes inside the current attribute (a family header nested in an attribute, as veth's
  // peer carries its own ifinfomsg).
  Message& append(std::span<const std::byte> bytes);

  std::uint16_t flags() const noexcept;
  // The finished message, its length and sequence number filled in.
  std::span<const std::byte> finish(std::uint32_t sequence);

 private:
  std::vector<std::byte> bytes_;
};

// One attribute of a reply: its type (without the nested/byte-order flags) and payload.
struct Attribute {
  std::uint16_t type = 0;
  std::span<const std::byte> payload;

  std::optional<std::uint16_t> u16() const;
  std::optional<std::uint32_t> u32() const;
  std::optional<std::uint64_t> u64() const;
};

// The attributes in `bytes`, in order; Errc::corrupt when one's length runs past the end or is
// smaller than its own header.
Result<std::vector<Attribute>> parse_attributes(std::span<const std::byte> bytes);

// A netlink socket of one protocol (NETLINK_ROUTE, NETLINK_GENERIC), bound by the kernel.
class Socket {
 public:
  static Result<Socket> open(int protocol);

  // Sends `message` and waits for its acknowledgement: Ok, or the errno the kernel answered with.
  Result<void> request(Message& message, std::string_view what);
  // Sends `message` (a request, or a dump with NLM_F_DUMP) and hands each reply's payload after
  // the nlmsghdr to `each` until the kernel says done (or, for a plain request, after the one
  // reply). The payload handed over is valid only during the call.
  Result<void> exchange(Message& message, std::string_view what,
                        const std::function<Result<void>(std::span<const std::byte>)>& each);

 private:
  explicit Socket(Fd fd) : fd_(std::move(fd)) {}
  Result<void> send(Message& message, std::string_view what);

  Fd fd_;
  std::uint32_t sequence_ = 1;
};

// The bytes of a trivially copyable value, for family headers and attribute payloads.
template <class T>
std::span<const std::byte> bytes_of(const T& value) {
  return std::as_bytes(std::span(&value, 1));
}

}  // namespace zc::netlink
