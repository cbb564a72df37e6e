#include "netlink.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "zcopy/core/syscall.hpp"

namespace zc::netlink {
namespace {

constexpr std::size_t align4(std::size_t n) noexcept {
  return (n + NLA_ALIGNTO - 1) & ~std::size_t{NLA_ALIGNTO - 1};
}
// kAttributeHeader and kMessageHeader, as unsigned sizes.
constexpr std::size_t kAttributeHeader = align4(sizeof(nlattr));
constexpr std::size_t kMessageHeader = align4(sizeof(nlmsghdr));

template <class T>
std::optional<T> read_exact(std::span<const std::byte> payload) {
  if (payload.size() != sizeof(T)) return std::nullopt;
  T value;
  std::memcpy(&value, payload.data(), sizeof value);
  return value;
}

std::string op_name(std::string_view what) {
  return "netlink " + std::string(what);
}

}  // namespace

Message::Message(std::uint16_t type, std::uint16_t flags,
                 std::span<const std::byte> family_header) {
  nlmsghdr header{};
  header.nlmsg_type = type;
  header.nlmsg_flags = flags;
  append(bytes_of(header));
  append(family_header);
}

Message& Message::append(std::span<const std::byte> bytes) {
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  bytes_.resize(align4(bytes_.size()));
  return *this;
}

Message& Message::put(std::uint16_t type, std::span<const std::byte> value) {
  nlattr attribute{};
  attribute.nla_len = static_cast<std::uint16_t>(kAttributeHeader + value.size());
  attribute.nla_type = type;
  const std::size_t start = bytes_.size();
  bytes_.resize(start + kAttributeHeader);
  std::memcpy(bytes_.data() + start, &attribute, sizeof attribute);
  return append(value);
}

Message& Message::put_string(std::uint16_t type, std::string_view text) {
  std::vector<std::byte> value(text.size() + 1);
  std::memcpy(value.data(), text.data(), text.size());
  return put(type, value);
}

Message& Message::put_u32(std::uint16_t type, std::uint32_t value) {
  return put(type, bytes_of(value));
}

std::size_t Message::begin_nest(std::uint16_t type) {
  const std::size_t start = bytes_.size();
  put(static_cast<std::uint16_t>(type | NLA_F_NESTED), {});
  return start;
}

void Message::end_nest(std::size_t start) {
  const auto length = static_cast<std::uint16_t>(bytes_.size() - start);
  std::memcpy(bytes_.data() + start + offsetof(nlattr, nla_len), &length, sizeof length);
}

std::span<const std::byte> Message::finish(std::uint32_t sequence) {
  nlmsghdr header;
  std::memcpy(&header, bytes_.data(), sizeof header);
  header.nlmsg_len = static_cast<std::uint32_t>(bytes_.size());
  header.nlmsg_seq = sequence;
  std::memcpy(bytes_.data(), &header, sizeof header);
  return bytes_;
}

std::uint16_t Message::flags() const noexcept {
  nlmsghdr header;
  std::memcpy(&header, bytes_.data(), sizeof header);
  return header.nlmsg_flags;
}

std::optional<std::uint16_t> Attribute::u16() const {
  return read_exact<std::uint16_t>(payload);
}
std::optional<std::uint32_t> Attribute::u32() const {
  return read_exact<std::uint32_t>(payload);
}
std::optional<std::uint64_t> Attribute::u64() const {
  return read_exact<std::uint64_t>(payload);
}

Result<std::vector<Attribute>> parse_attributes(std::span<const std::byte> bytes) {
  std::vector<Attribute> attributes;
  std::size_t at = 0;
  while (bytes.size() - at >= kAttributeHeader) {
    nlattr header;
    std::memcpy(&header, bytes.data() + at, sizeof header);
    if (header.nla_len < kAttributeHeader || header.nla_len > bytes.size() - at) {
      return fail(Errc::corrupt, "netlink attribute",
                  "length " + std::to_string(header.nla_len) + " at offset " + std::to_string(at) +
                      " does not fit the " + std::to_string(bytes.size()) + "-byte message");
    }
    attributes.push_back({static_cast<std::uint16_t>(header.nla_type & NLA_TYPE_MASK),
                          bytes.subspan(at + kAttributeHeader, header.nla_len - kAttributeHeader)});
    at += align4(header.nla_len);
    if (at > bytes.size()) break;  // the last attribute's padding may be missing
  }
  return attributes;
}

Result<Socket> Socket::open(int protocol) {
  auto fd = sys_call("socket(AF_NETLINK)",
                     [&] { return ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol); });
  if (!fd) return std::unexpected(fd.error());
  Fd socket = Fd::adopt(*fd);
  // Errors come back as NLMSG_ERROR carrying only our header, not the whole request.
  const int one = 1;
  ::setsockopt(socket.get(), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  auto bound = sys_call({"bind(AF_NETLINK)", socket.get()}, [&] {
    return ::bind(socket.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local);
  });
  if (!bound) return std::unexpected(bound.error());
  return Socket(std::move(socket));
}

Result<void> Socket::send(Message& message, std::string_view what) {
  const std::span<const std::byte> bytes = message.finish(++sequence_);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  auto sent = sys_call({"sendto(AF_NETLINK)", fd_.get()}, [&] {
    return ::sendto(fd_.get(), bytes.data(), bytes.size(), 0,
                    reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel);
  });
  if (!sent) return std::unexpected(std::move(sent.error()).with_context(op_name(what)));
  return {};
}

Result<void> Socket::request(Message& message, std::string_view what) {
  return exchange(message, what, [](std::span<const std::byte>) -> Result<void> { return {}; });
}

Result<void> Socket::exchange(Message& message, std::string_view what,
                              const std::function<Result<void>(std::span<const std::byte>)>& each) {
  if (auto sent = send(message, what); !sent) return sent;
  // Every message the kernel sends here fits: dumps are cut into datagrams of at most a page or
  // two, and a single reply is small.
  alignas(nlmsghdr) std::array<std::byte, 32768> buffer;
  for (;;) {
    auto n = sys_call({"recv(AF_NETLINK)", fd_.get()},
                      [&] { return ::recv(fd_.get(), buffer.data(), buffer.size(), 0); });
    if (!n) return std::unexpected(std::move(n.error()).with_context(op_name(what)));
    const std::span<const std::byte> datagram(buffer.data(), static_cast<std::size_t>(*n));
    std::size_t at = 0;
    while (datagram.size() - at >= sizeof(nlmsghdr)) {
      nlmsghdr header;
      std::memcpy(&header, datagram.data() + at, sizeof header);
      if (header.nlmsg_len < sizeof header || header.nlmsg_len > datagram.size() - at) {
        return fail(Errc::corrupt, op_name(what), "reply length does not fit the datagram");
      }
      const auto payload = datagram.subspan(at + kMessageHeader, header.nlmsg_len - kMessageHeader);
      at += align4(header.nlmsg_len);
      if (header.nlmsg_seq != sequence_) continue;  // a stale answer to an earlier request
      if (header.nlmsg_type == NLMSG_DONE) return {};
      if (header.nlmsg_type == NLMSG_ERROR) {
        nlmsgerr error{};
        if (payload.size() < sizeof error.error) {
          return fail(Errc::corrupt, op_name(what), "short error reply");
        }
        std::memcpy(&error.error, payload.data(), sizeof error.error);
        if (error.error == 0) return {};  // the acknowledgement
        return fail_errno(-error.error, op_name(what));
      }
      if (auto handled = each(payload); !handled) return handled;
      // A dump ends with NLMSG_DONE (its parts need not say NLM_F_MULTI: the netdev family's
      // do not), an acknowledged request with the acknowledgement; a plain request has one reply.
      const std::uint16_t asked = message.flags();
      if ((header.nlmsg_flags & NLM_F_MULTI) == 0 && (asked & NLM_F_ACK) == 0 &&
          (asked & NLM_F_DUMP) != NLM_F_DUMP) {
        return {};
      }
      if (at > datagram.size()) break;
    }
  }
}

}  // namespace zc::netlink
