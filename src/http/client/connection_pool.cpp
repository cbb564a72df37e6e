#include "zcopy/http/client/connection_pool.hpp"

#include <poll.h>

#include <algorithm>

namespace zc::http {
namespace {

std::string origin_of(const Url& url) {
  return std::string(url.tls ? "https://" : "http://") + url.authority();
}

// An idle connection has nothing to say: readable means closed by the server (or garbage).
bool still_quiet(const ClientConnection& connection) {
  const int fd = connection.tls ? connection.tls->session().fd() : connection.socket.get();
  if (fd < 0) return false;
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  return ::poll(&p, 1, 0) == 0;
}

}  // namespace

std::optional<ClientConnection> ConnectionPool::take(const Url& url) {
  const std::string origin = origin_of(url);
  // The newest first: it has been idle the shortest time.
  for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
    if (it->origin != origin) continue;
    ClientConnection connection = std::move(it->connection);
    idle_.erase(std::next(it).base());
    if (still_quiet(connection)) return connection;
    return take(url);  // that one is dead; there may be another
  }
  return std::nullopt;
}

void ConnectionPool::put(const Url& url, ClientConnection connection) {
  if (idle_per_origin_ == 0) return;
  std::string origin = origin_of(url);
  const auto same = std::ranges::count_if(idle_, [&](const Idle& i) { return i.origin == origin; });
  if (static_cast<std::size_t>(same) >= idle_per_origin_) {
    idle_.erase(std::ranges::find_if(idle_, [&](const Idle& i) { return i.origin == origin; }));
  }
  idle_.push_back({std::move(origin), std::move(connection)});
}

}  // namespace zc::http
