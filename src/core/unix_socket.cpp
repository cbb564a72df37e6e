// Making, naming and connecting the Unix sockets fd passing runs over (fd_passing.cpp sends).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <utility>

#include "zcopy/core/fd_passing.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc {
namespace {

struct SocketAddress {
  sockaddr_un address{};
  socklen_t length = 0;
  bool abstract = false;

  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&address); }
};

Result<SocketAddress> parse_address(std::string_view text) {
  SocketAddress parsed;
  parsed.address.sun_family = AF_UNIX;
  parsed.abstract = !text.empty() && text.front() == '@';
  const std::string_view name = parsed.abstract ? text.substr(1) : text;
  // An abstract name starts with a NUL byte instead of '@'; a path ends with one.
  constexpr std::size_t kMaxName = sizeof(parsed.address.sun_path) - 1;
  if (name.empty()) {
    return fail(Errc::invalid_argument, "unix socket address",
                "empty address '" + std::string(text) + "'");
  }
  if (name.size() > kMaxName) {
    return fail(
        Errc::invalid_argument, "unix socket address",
        "'" + std::string(text) + "' is longer than " + std::to_string(kMaxName) + " bytes");
  }
  if (name.find('\0') != std::string_view::npos) {
    return fail(Errc::invalid_argument, "unix socket address", "address contains a NUL byte");
  }
  char* destination = parsed.address.sun_path + (parsed.abstract ? 1 : 0);
  std::memcpy(destination, name.data(), name.size());
  // Abstract names are exactly as long as the length says; paths are NUL-terminated.
  parsed.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
  return parsed;
}

// With SO_PASSCRED, everything the socket sends carries its credentials and everything it
// receives shows the sender's.
Result<int> enable_passcred(int socket) {
  const int one = 1;
  return sys_call({"setsockopt(SO_PASSCRED)", socket},
                  [&] { return ::setsockopt(socket, SOL_SOCKET, SO_PASSCRED, &one, sizeof one); });
}

// A close-on-exec SOCK_SEQPACKET socket with SO_PASSCRED set.
Result<Fd> passcred_socket() {
  auto raw = sys_call("socket(AF_UNIX, SOCK_SEQPACKET)",
                      [] { return ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0); });
  if (!raw) return std::unexpected(raw.error());
  Fd socket = Fd::adopt(*raw);
  if (auto rc = enable_passcred(socket.get()); !rc) return std::unexpected(rc.error());
  return socket;
}

Error with_address(Error error, std::string_view call, std::string_view address) {
  return Error::from_errno(error.sys_errno(), std::string(call) + "(" + std::string(address) + ")");
}

}  // namespace

Result<UnixSocketPair> UnixSocket::pair() {
  int ends[2] = {-1, -1};
  auto rc = sys_call("socketpair(AF_UNIX, SOCK_SEQPACKET)",
                     [&] { return ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends); });
  if (!rc) return std::unexpected(rc.error());
  UnixSocketPair pair{UnixSocket(Fd::adopt(ends[0])), UnixSocket(Fd::adopt(ends[1]))};
  for (const UnixSocket* socket : {&pair.first, &pair.second}) {
    if (auto set = enable_passcred(socket->fd()); !set) return std::unexpected(set.error());
  }
  return pair;
}

Result<UnixSocket> UnixSocket::connect(std::string_view address) {
  auto parsed = parse_address(address);
  if (!parsed) return std::unexpected(parsed.error());
  // SO_PASSCRED is set before connect so that even the first message carries credentials.
  auto socket = passcred_socket();
  if (!socket) return std::unexpected(socket.error());
  auto rc =
      sys_call("connect", [&] { return ::connect(socket->get(), parsed->get(), parsed->length); });
  if (!rc) return std::unexpected(with_address(rc.error(), "connect", address));
  return UnixSocket(std::move(*socket));
}

Result<UnixListener> UnixListener::listen(std::string_view address, int backlog) {
  auto parsed = parse_address(address);
  if (!parsed) return std::unexpected(parsed.error());
  // Set on the listener, SO_PASSCRED is inherited by every accepted socket.
  auto socket = passcred_socket();
  if (!socket) return std::unexpected(socket.error());
  auto bound =
      sys_call("bind", [&] { return ::bind(socket->get(), parsed->get(), parsed->length); });
  if (!bound) return std::unexpected(with_address(bound.error(), "bind", address));
  std::string path = parsed->abstract ? std::string() : std::string(address);
  UnixListener listener(std::move(*socket), std::string(address), std::move(path));
  auto rc = sys_call({"listen", listener.fd()}, [&] { return ::listen(listener.fd(), backlog); });
  if (!rc) return std::unexpected(rc.error());
  return listener;
}

UnixListener::UnixListener(Fd fd, std::string address, std::string path_to_unlink) noexcept
    : fd_(std::move(fd)),
      address_(std::move(address)),
      path_to_unlink_(std::move(path_to_unlink)),
      owner_(::getpid()) {}

UnixListener::UnixListener(UnixListener&& other) noexcept
    : fd_(std::move(other.fd_)),
      address_(std::move(other.address_)),
      path_to_unlink_(std::exchange(other.path_to_unlink_, std::string())),
      owner_(other.owner_) {}

UnixListener& UnixListener::operator=(UnixListener&& other) noexcept {
  if (this != &other) {
    remove_path();
    fd_ = std::move(other.fd_);
    address_ = std::move(other.address_);
    path_to_unlink_ = std::exchange(other.path_to_unlink_, std::string());
    owner_ = other.owner_;
  }
  return *this;
}

UnixListener::~UnixListener() {
  remove_path();
}

void UnixListener::remove_path() noexcept {
  // A forked child that inherited the listener must not remove the parent's name.
  if (!path_to_unlink_.empty() && ::getpid() == owner_) ::unlink(path_to_unlink_.c_str());
  path_to_unlink_.clear();
}

Result<UnixSocket> UnixListener::accept() {
  auto raw = sys_call({"accept4", fd_.get()},
                      [&] { return ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC); });
  if (!raw) return std::unexpected(raw.error());
  UnixSocket socket(Fd::adopt(*raw));
  // Inherited from the listener on Linux; set again so it never depends on that detail.
  if (auto rc = enable_passcred(socket.fd()); !rc) return std::unexpected(rc.error());
  return socket;
}

}  // namespace zc
