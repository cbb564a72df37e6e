// zcopy/core/fd_passing.hpp: hand open file descriptors to another process over a Unix socket,
// and know, from the kernel, who sent them.
//
// A zero-copy channel shares memory by sharing a descriptor (a memfd): its creator listens on a
// name, and each subscriber connects and receives the descriptor with SCM_RIGHTS. Whoever can
// reach the name can connect (an abstract name has no file permissions at all), so the receiving
// side decides by the sender's credentials whether to accept what arrived:
//
//   // Creator: hand the memfd to whoever connects.
//   auto listener = zc::UnixListener::listen("@zcopy/channel/prices");
//   auto peer = listener->accept();
//   const int fds[] = {memfd.get()};
//   auto sent = peer->send(std::as_bytes(std::span("prices v1")), fds);
//
//   // Subscriber: accept descriptors only from our own user (the default policy).
//   auto socket = zc::UnixSocket::connect("@zcopy/channel/prices");
//   auto message = socket->receive(zc::PeerPolicy{});
//   if (!message) return std::unexpected(message.error());   // rejected, closed, ...
//   zc::Fd memfd = std::move(message->fds.at(0));
//
// Sockets are SOCK_SEQPACKET: a message and its descriptors arrive together, whole, in order.
// Every socket has SO_PASSCRED set before it can send or receive, so each message carries the
// sender's pid, uid and gid as the kernel saw them when it was sent (not when the socket was
// made: SO_PEERCRED of a socketpair names its creator even after a fork and setuid, which is why
// credentials are checked per message). A message the policy refuses is dropped and every
// descriptor it carried is closed, so a hostile peer cannot fill our descriptor table.
//
// Addresses: "@name" is a Linux abstract socket name (no file; vanishes with the listener),
// anything else is a filesystem path. Both are at most 107 bytes.
//
// Synchronization: one call is one system call on a message socket, so several threads may send
// and receive on the same UnixSocket at once; messages never interleave, but which receiver gets
// which message is unspecified.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc {

// The most descriptors one message may carry; a message with more is rejected whole.
inline constexpr std::size_t kMaxFdsPerMessage = 16;
// The payload size receive() accepts unless told otherwise.
inline constexpr std::size_t kDefaultMaxPayload = 4096;

// Who sent a message: the sender's real ids and process id (in our pid namespace) at send time.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Whose messages receive() accepts: the user `uid` and, when set, anyone whose gid is `gid`.
struct PeerPolicy {
  uid_t uid = ::geteuid();
  std::optional<gid_t> gid;

  bool admits(const PeerCredentials& peer) const noexcept;
  // "uid 1000" or "uid 1000 or gid 27", for error messages.
  std::string describe() const;
};

struct Message {
  std::vector<std::byte> payload;
  std::vector<Fd> fds;  // close-on-exec, owned by the receiver
  PeerCredentials sender;
};

struct UnixSocketPair;

// A connected AF_UNIX SOCK_SEQPACKET socket with SO_PASSCRED set. Move-only; owns its descriptor.
class UnixSocket {
 public:
  // Two connected sockets, e.g. to keep one and give the other to a child across fork().
  static Result<UnixSocketPair> pair();
  // Connects to a UnixListener at `address` ("@abstract" or a path).
  static Result<UnixSocket> connect(std::string_view address);

  // Sends one message: `payload` and duplicates of `fds` (borrowed; at most kMaxFdsPerMessage).
  // Errc::closed when the peer is gone.
  Result<void> send(std::span<const std::byte> payload, std::span<const int> fds = {});

  // Waits for one message of at most `max_payload` bytes. Errc::closed when the peer closed;
  // Errc::rejected (the message dropped and its descriptors closed) when the sender is not
  // admitted by `policy`, its credentials are missing, or it carried more than kMaxFdsPerMessage
  // descriptors or more than `max_payload` bytes.
  Result<Message> receive(const PeerPolicy& policy, std::size_t max_payload = kDefaultMaxPayload);

  // Borrowed, e.g. for poll(2).
  int fd() const noexcept { return fd_.get(); }

 private:
  friend class UnixListener;
  explicit UnixSocket(Fd fd) noexcept : fd_(std::move(fd)) {}
  Fd fd_;
};

struct UnixSocketPair {
  UnixSocket first;
  UnixSocket second;
};

// A listening AF_UNIX SOCK_SEQPACKET socket. A filesystem path it bound is unlinked when the
// listener is destroyed by the process that created it (not by a forked child); a stale file
// left by a crash makes listen() fail with EADDRINUSE rather than be silently replaced.
class UnixListener {
 public:
  static Result<UnixListener> listen(std::string_view address, int backlog = 16);

  UnixListener(UnixListener&& other) noexcept;
  UnixListener& operator=(UnixListener&& other) noexcept;
  UnixListener(const UnixListener&) = delete;
  UnixListener& operator=(const UnixListener&) = delete;
  ~UnixListener();

  // Waits for the next connection.
  Result<UnixSocket> accept();

  const std::string& address() const noexcept { return address_; }
  int fd() const noexcept { return fd_.get(); }

 private:
  UnixListener(Fd fd, std::string address, std::string path_to_unlink) noexcept;
  void remove_path() noexcept;

  Fd fd_;
  std::string address_;
  std::string path_to_unlink_;  // empty for abstract names
  pid_t owner_ = 0;             // the process that bound the path
};

}  // namespace zc
