// Sending descriptors with SCM_RIGHTS and receiving them only from admitted peers.
#include "zcopy/core/fd_passing.hpp"

#include <sys/socket.h>

#include <array>
#include <cstring>

#include "zcopy/core/syscall.hpp"

namespace zc {
namespace {

constexpr std::size_t kRightsSpace = CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage);
constexpr std::size_t kCredentialsSpace = CMSG_SPACE(sizeof(ucred));

bool peer_is_gone(int errno_value) {
  return errno_value == EPIPE || errno_value == ECONNRESET || errno_value == ENOTCONN;
}

std::string describe(const PeerCredentials& peer) {
  return "peer pid " + std::to_string(peer.pid) + " uid " + std::to_string(peer.uid) + " gid " +
         std::to_string(peer.gid);
}

}  // namespace

bool PeerPolicy::admits(const PeerCredentials& peer) const noexcept {
  return peer.uid == uid || (gid.has_value() && peer.gid == *gid);
}

std::string PeerPolicy::describe() const {
  std::string text = "uid " + std::to_string(uid);
  if (gid) text += " or gid " + std::to_string(*gid);
  return text;
}

Result<void> UnixSocket::send(std::span<const std::byte> payload, std::span<const int> fds) {
  const std::string operation = SysOp("sendmsg", fd()).describe();
  if (fds.size() > kMaxFdsPerMessage) {
    return fail(Errc::invalid_argument, operation,
                std::to_string(fds.size()) + " descriptors exceed the " +
                    std::to_string(kMaxFdsPerMessage) + " one message may carry");
  }
  // sendmsg only reads the payload; iovec has no const-qualified pointer.
  iovec io{const_cast<std::byte*>(payload.data()), payload.size()};
  alignas(cmsghdr) std::array<std::byte, kRightsSpace> control{};
  msghdr header{};
  header.msg_iov = &io;
  header.msg_iovlen = 1;
  if (!fds.empty()) {
    header.msg_control = control.data();
    header.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* rights = CMSG_FIRSTHDR(&header);
    rights->cmsg_level = SOL_SOCKET;
    rights->cmsg_type = SCM_RIGHTS;
    rights->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(rights), fds.data(), sizeof(int) * fds.size());
  }
  // MSG_NOSIGNAL: a vanished peer is an error to return, not a SIGPIPE to die of.
  auto sent = sys_call({"sendmsg", fd()}, [&] { return ::sendmsg(fd(), &header, MSG_NOSIGNAL); });
  if (!sent) {
    if (peer_is_gone(sent.error().sys_errno())) return fail(Errc::closed, operation, "peer closed");
    return std::unexpected(sent.error());
  }
  // A SOCK_SEQPACKET message is sent whole or not at all.
  if (static_cast<std::size_t>(*sent) != payload.size()) {
    return fail(
        Errc::system, operation,
        "sent " + std::to_string(*sent) + " of " + std::to_string(payload.size()) + " bytes");
  }
  return {};
}

Result<Message> UnixSocket::receive(const PeerPolicy& policy, std::size_t max_payload) {
  const std::string operation = SysOp("recvmsg", fd()).describe();
  Message message;
  message.payload.resize(max_payload);
  iovec io{message.payload.data(), message.payload.size()};
  alignas(cmsghdr) std::array<std::byte, kRightsSpace + kCredentialsSpace> control{};
  msghdr header{};
  header.msg_iov = &io;
  header.msg_iovlen = 1;
  header.msg_control = control.data();
  header.msg_controllen = control.size();
  auto received =
      sys_call({"recvmsg", fd()}, [&] { return ::recvmsg(fd(), &header, MSG_CMSG_CLOEXEC); });
  if (!received) {
    if (peer_is_gone(received.error().sys_errno()))
      return fail(Errc::closed, operation, "peer closed");
    return std::unexpected(received.error());
  }

  // Own every descriptor that arrived before judging the message, so that each rejection
  // below closes them.
  std::optional<ucred> credentials;
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
    if (c->cmsg_type == SCM_RIGHTS) {
      const std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int raw = -1;
        std::memcpy(&raw, CMSG_DATA(c) + i * sizeof(int), sizeof raw);
        message.fds.push_back(Fd::adopt(raw));
      }
    } else if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(ucred))) {
      ucred sender{};
      std::memcpy(&sender, CMSG_DATA(c), sizeof sender);
      credentials = sender;
    }
  }

  // End of stream has neither data nor credentials; an empty message still has credentials.
  if (*received == 0 && !credentials && message.fds.empty()) {
    return fail(Errc::closed, operation, "peer closed");
  }
  if ((header.msg_flags & MSG_CTRUNC) != 0) {
    return fail(Errc::rejected, operation,
                "message carried more than " + std::to_string(kMaxFdsPerMessage) +
                    " descriptors; closed the " + std::to_string(message.fds.size()) +
                    " that arrived");
  }
  if ((header.msg_flags & MSG_TRUNC) != 0) {
    return fail(Errc::rejected, operation,
                "message larger than the " + std::to_string(max_payload) + " bytes allowed");
  }
  // pid 0: the sender did not attach credentials, or lives in a pid namespace we cannot see.
  if (!credentials || credentials->pid == 0) {
    return fail(Errc::rejected, operation, "message carries no sender credentials");
  }
  message.sender = PeerCredentials{credentials->pid, credentials->uid, credentials->gid};
  if (!policy.admits(message.sender)) {
    return fail(Errc::rejected, operation,
                describe(message.sender) + " is not allowed (expects " + policy.describe() + ")");
  }
  message.payload.resize(static_cast<std::size_t>(*received));
  return message;
}

}  // namespace zc
