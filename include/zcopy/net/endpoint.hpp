// zcopy/net/endpoint.hpp: where to listen or connect, parsed from what a user types.
//
//   zc::Result<zc::net::Endpoint> e = zc::net::parse_endpoint("[::1]:8080", 80);
//   zc::Result<std::vector<zc::net::SocketAddress>> addrs = zc::net::resolve(*e);
//
// Hosts may be names, IPv4 literals or bracketed IPv6 literals. Resolution goes through
// getaddrinfo, so /etc/hosts and numeric forms work without any network access.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc::net {

struct Endpoint {
  std::string host;  // without brackets, even for IPv6
  std::uint16_t port = 0;

  // "host:port", bracketing an IPv6 host.
  std::string str() const;
};

// Parses "host", "host:port", "[v6]" or "[v6]:port"; a missing port becomes `default_port`.
// Port 0 is allowed (the kernel picks one when listening).
Result<Endpoint> parse_endpoint(std::string_view text, std::uint16_t default_port);

// A resolved socket address of any family.
class SocketAddress {
 public:
  SocketAddress() = default;
  static SocketAddress from(const sockaddr* address, socklen_t length);

  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t length() const noexcept { return length_; }
  int family() const noexcept { return storage_.ss_family; }
  std::uint16_t port() const noexcept;
  // "127.0.0.1:8080" or "[::1]:8080".
  std::string str() const;

 private:
  sockaddr_storage storage_{};
  socklen_t length_ = 0;
};

// Every TCP address `endpoint` names, in getaddrinfo's order of preference.
Result<std::vector<SocketAddress>> resolve(const Endpoint& endpoint);

// The local address a socket is bound to (getsockname), e.g. to learn a kernel-chosen port.
Result<SocketAddress> local_address(int socket_fd);

}  // namespace zc::net
