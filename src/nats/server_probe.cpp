// src/nats/server_probe.cpp: a NATS server greets every connection with an INFO line; anything
// else means the URL points at some other service.
#include "server_probe.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "zcopy/core/fd.hpp"

namespace zc::nats::detail {
namespace {

// "host:port" from "scheme://user:pass@host:port".
std::string host_port(std::string_view url) {
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
  }
  if (const auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  if (const auto slash = url.find('/'); slash != std::string_view::npos) url = url.substr(0, slash);
  return std::string(url);
}

std::string printable(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    if (c == '\r' || c == '\n') break;
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

}  // namespace

std::string explain_unreachable(std::string_view url) {
  const std::string where = host_port(url);
  const auto colon = where.rfind(':');
  if (colon == std::string::npos) return {};
  std::string host = where.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port = where.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) {
    return "cannot resolve " + where;
  }
  Fd fd =
      Fd::adopt(::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  int rc = fd ? ::connect(fd.get(), found->ai_addr, found->ai_addrlen) : -1;
  const int connect_errno = errno;
  ::freeaddrinfo(found);
  if (!fd) return {};
  if (rc != 0 && connect_errno != EINPROGRESS) return "nothing listens on " + where;
  pollfd p{.fd = fd.get(), .events = POLLOUT, .revents = 0};
  if (rc != 0 && ::poll(&p, 1, 1000) <= 0) return "no answer from " + where;
  int error = 0;
  socklen_t length = sizeof error;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) return "nothing listens on " + where;
  p = {.fd = fd.get(), .events = POLLIN, .revents = 0};
  if (::poll(&p, 1, 1000) <= 0) return where + " accepted but sent nothing: not a NATS server";
  char greeting[80] = {};
  const ssize_t n = ::recv(fd.get(), greeting, sizeof greeting, 0);
  if (n <= 0) return where + " closed the connection at once: not a NATS server";
  const std::string_view text(greeting, static_cast<std::size_t>(n));
  if (text.starts_with("INFO ")) return {};
  return where + " answered, but not as a NATS server (it sent \"" + printable(text) + "\")";
}

}  // namespace zc::nats::detail
