// zcopy/net/tcp.hpp: TCP listening and connecting sockets, owned by zc::Fd.
//
//   zc::Result<zc::Fd> server = zc::net::listen_tcp(*zc::net::parse_endpoint("127.0.0.1:0", 0));
//   std::uint16_t port = zc::net::local_address(server->get())->port();
//   zc::Result<zc::Fd> client = zc::net::connect_tcp({"127.0.0.1", port}, 5s);
#pragma once

#include <chrono>
#include <vector>

#include "zcopy/core/fd.hpp"
#include "zcopy/net/endpoint.hpp"

namespace zc::net {

struct ListenOptions {
  int backlog = 1024;
  // SO_REUSEPORT, so one listener per core can share a port and the kernel spreads connections.
  bool reuse_port = false;
  // O_NONBLOCK on the listening socket (for an event loop).
  bool nonblocking = true;
};

// A socket bound to the first address `endpoint` resolves to and listening. SO_REUSEADDR is set so
// a restarted server can bind while old connections sit in TIME_WAIT.
Result<Fd> listen_tcp(const Endpoint& endpoint, const ListenOptions& options = {});
Result<Fd> listen_tcp(const SocketAddress& address, const ListenOptions& options = {});

// `count` listeners on one port, shared among themselves with SO_REUSEPORT (the kernel spreads
// connections over them) but with no other server: the first binds without SO_REUSEPORT, so an
// address someone already listens on is refused with EADDRINUSE, and turns it on before listen(),
// so the others can join. A program that asks for SO_REUSEPORT under the same user could still
// join afterwards; the kernel allows that by design. `options.reuse_port` is ignored.
Result<std::vector<Fd>> listen_tcp_group(const Endpoint& endpoint, std::size_t count,
                                         const ListenOptions& options = {});

// A blocking connected socket to the first address of `endpoint` that accepts within `timeout`
// (each address gets the whole timeout). TCP_NODELAY is not set; callers choose.
Result<Fd> connect_tcp(const Endpoint& endpoint, std::chrono::milliseconds timeout);

// Sets or clears O_NONBLOCK.
Result<void> set_nonblocking(int fd, bool nonblocking);

// setsockopt with an int value, naming the option in the error ("setsockopt(TCP_NODELAY)").
Result<void> set_socket_option(int fd, int level, int option, int value, const char* option_name);

}  // namespace zc::net
