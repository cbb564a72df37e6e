#include "zcopy/net/endpoint.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <memory>

namespace zc::net {
namespace {

Result<std::uint16_t> parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value > 65535) {
    return fail(Errc::invalid_argument, "parse endpoint '" + std::string(whole) + "'",
                "the port must be a number from 0 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::string Endpoint::str() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(std::string_view text, std::uint16_t default_port) {
  const std::string whole(text);
  auto bad = [&](const char* why) {
    return fail(Errc::invalid_argument, "parse endpoint '" + whole + "'", why);
  };
  Endpoint endpoint{.host = {}, .port = default_port};
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad("an IPv6 address needs its closing ']'");
    endpoint.host = std::string(text.substr(1, close - 1));
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':port' after ']'");
      port_text = rest.substr(1);
      if (port_text.empty()) return bad("the port after ':' is missing");
    }
  } else {
    const auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return bad("write an IPv6 address in brackets: [::1]:8080");
    }
    endpoint.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = text.substr(colon + 1);
      if (port_text.empty()) return bad("the port after ':' is missing");
    }
  }
  if (endpoint.host.empty()) return bad("the host is empty");
  if (!port_text.empty()) {
    auto port = parse_port(port_text, text);
    if (!port) return std::unexpected(port.error());
    endpoint.port = *port;
  }
  return endpoint;
}

SocketAddress SocketAddress::from(const sockaddr* address, socklen_t length) {
  SocketAddress result;
  length = std::min<socklen_t>(length, sizeof(result.storage_));
  std::memcpy(&result.storage_, address, length);
  result.length_ = length;
  return result;
}

std::uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(get())->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(get())->sin6_port);
  return 0;
}

std::string SocketAddress::str() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(get())->sin_addr, text,
                sizeof(text));
    return std::string(text) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(get())->sin6_addr, text,
                sizeof(text));
    return "[" + std::string(text) + "]:" + std::to_string(port());
  }
  return "(family " + std::to_string(family()) + ")";
}

Result<std::vector<SocketAddress>> resolve(const Endpoint& endpoint) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(endpoint.port);
  int rc = ::getaddrinfo(endpoint.host.c_str(), service.c_str(), &hints, &found);
  if (rc == EAI_BADFLAGS || rc == EAI_NONAME) {
    // AI_ADDRCONFIG hides loopback-only families on hosts without a configured address.
    hints.ai_flags = AI_NUMERICSERV;
    rc = ::getaddrinfo(endpoint.host.c_str(), service.c_str(), &hints, &found);
  }
  if (rc != 0) {
    const std::string operation = "resolve '" + endpoint.host + "'";
    if (rc == EAI_SYSTEM) return fail_errno(errno, operation);
    return fail(Errc::invalid_argument, operation, ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, &::freeaddrinfo);
  std::vector<SocketAddress> addresses;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    addresses.push_back(SocketAddress::from(a->ai_addr, a->ai_addrlen));
  }
  if (addresses.empty()) {
    return fail(Errc::invalid_argument, "resolve '" + endpoint.host + "'", "no TCP address");
  }
  return addresses;
}

Result<SocketAddress> local_address(int socket_fd) {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) {
    return fail_errno(errno, "getsockname(fd " + std::to_string(socket_fd) + ")");
  }
  return SocketAddress::from(reinterpret_cast<const sockaddr*>(&storage), length);
}

}  // namespace zc::net
