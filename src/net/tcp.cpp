#include "zcopy/net/tcp.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <optional>

#include "zcopy/core/syscall.hpp"

namespace zc::net {

Result<void> set_nonblocking(int fd, bool nonblocking) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return fail_errno(errno, "fcntl(fd " + std::to_string(fd) + ", F_GETFL)");
  const int wanted = nonblocking ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
  if (wanted != flags && ::fcntl(fd, F_SETFL, wanted) != 0) {
    return fail_errno(errno, "fcntl(fd " + std::to_string(fd) + ", F_SETFL)");
  }
  return {};
}

Result<void> set_socket_option(int fd, int level, int option, int value, const char* option_name) {
  if (::setsockopt(fd, level, option, &value, sizeof(value)) != 0) {
    return fail_errno(
        errno, std::string("setsockopt(fd ") + std::to_string(fd) + ", " + option_name + ")");
  }
  return {};
}

namespace {

// A TCP socket with SO_REUSEADDR, bound to `address` (SO_REUSEPORT before the bind when asked).
Result<Fd> bound_socket(const SocketAddress& address, const ListenOptions& options) {
  const int type = SOCK_STREAM | SOCK_CLOEXEC | (options.nonblocking ? SOCK_NONBLOCK : 0);
  Fd socket = Fd::adopt(::socket(address.family(), type, IPPROTO_TCP));
  if (!socket) return fail_errno(errno, "socket(TCP) for " + address.str());
  if (auto r = set_socket_option(socket.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"); !r) {
    return std::unexpected(r.error());
  }
  if (options.reuse_port) {
    auto r = set_socket_option(socket.get(), SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
    if (!r) return std::unexpected(r.error());
  }
  if (::bind(socket.get(), address.get(), address.length()) != 0) {
    const int error = errno;
    return fail_errno(error, "bind(" + address.str() + ")",
                      error == EADDRINUSE ? "another server listens there" : "");
  }
  return socket;
}

Result<void> start_listening(const Fd& socket, const SocketAddress& address, int backlog) {
  if (::listen(socket.get(), backlog) != 0) {
    return fail_errno(errno, "listen(" + address.str() + ")");
  }
  return {};
}

}  // namespace

Result<Fd> listen_tcp(const SocketAddress& address, const ListenOptions& options) {
  auto socket = bound_socket(address, options);
  if (!socket) return std::unexpected(socket.error());
  if (auto r = start_listening(*socket, address, options.backlog); !r) {
    return std::unexpected(r.error());
  }
  return std::move(*socket);
}

Result<Fd> listen_tcp(const Endpoint& endpoint, const ListenOptions& options) {
  auto addresses = resolve(endpoint);
  if (!addresses) return std::unexpected(addresses.error());
  return listen_tcp(addresses->front(), options);
}

Result<std::vector<Fd>> listen_tcp_group(const Endpoint& endpoint, std::size_t count,
                                         const ListenOptions& options) {
  auto addresses = resolve(endpoint);
  if (!addresses) return std::unexpected(addresses.error());
  const SocketAddress& address = addresses->front();
  ListenOptions alone = options;
  alone.reuse_port = false;
  auto first = bound_socket(address, alone);
  if (!first) return std::unexpected(first.error());
  // Bound alone, the port is ours; SO_REUSEPORT from now on lets only our own sockets join, as
  // any other server's first socket binds alone too and so conflicts.
  if (auto r = set_socket_option(first->get(), SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT"); !r) {
    return std::unexpected(r.error());
  }
  if (auto r = start_listening(*first, address, options.backlog); !r) {
    return std::unexpected(r.error());
  }
  auto bound = local_address(first->get());  // the kernel's choice of port for port 0
  if (!bound) return std::unexpected(bound.error());
  std::vector<Fd> listeners;
  listeners.push_back(std::move(*first));
  ListenOptions shared = options;
  shared.reuse_port = true;
  while (listeners.size() < count) {
    auto next = listen_tcp(*bound, shared);
    if (!next) return std::unexpected(next.error());
    listeners.push_back(std::move(*next));
  }
  return listeners;
}

namespace {

Result<Fd> connect_one(const SocketAddress& address, std::chrono::milliseconds timeout) {
  Fd socket = Fd::adopt(
      ::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP));
  if (!socket) return fail_errno(errno, "socket(TCP) for " + address.str());
  const std::string operation = "connect(" + address.str() + ")";
  if (::connect(socket.get(), address.get(), address.length()) != 0) {
    if (errno != EINPROGRESS) return fail_errno(errno, operation);
    pollfd waiter{.fd = socket.get(), .events = POLLOUT, .revents = 0};
    const auto ready = sys_call({"poll", socket.get()}, [&] {
      return ::poll(&waiter, 1, static_cast<int>(timeout.count()));
    });
    if (!ready) return std::unexpected(ready.error());
    if (*ready == 0) {
      return fail(Errc::timeout, operation,
                  "no answer within " + std::to_string(timeout.count()) + " ms");
    }
    int error = 0;
    socklen_t length = sizeof(error);
    if (::getsockopt(socket.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
      return fail_errno(errno, "getsockopt(SO_ERROR) after " + operation);
    }
    if (error != 0) return fail_errno(error, operation);
  }
  if (auto r = set_nonblocking(socket.get(), false); !r) return std::unexpected(r.error());
  return socket;
}

}  // namespace

Result<Fd> connect_tcp(const Endpoint& endpoint, std::chrono::milliseconds timeout) {
  auto addresses = resolve(endpoint);
  if (!addresses) return std::unexpected(addresses.error());
  std::optional<Error> last;
  for (const SocketAddress& address : *addresses) {
    auto socket = connect_one(address, timeout);
    if (socket) return socket;
    last = socket.error();
  }
  return std::unexpected(*last);
}

}  // namespace zc::net
