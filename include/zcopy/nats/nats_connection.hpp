// zcopy/nats/nats_connection.hpp: one connection to a NATS cluster, for the channel bridges.
//
//   auto nats = zc::nats::NatsConnection::connect({.urls = {"nats://10.0.0.1:4222"}});
//   if (!nats) die(nats.error().message());     // "nats connect: no server ... reachable"
//   std::puts(nats->connected_url().c_str());   // which server of the list we reached
//
// A connection is given every server of the cluster it should know; when the one in use goes
// away the client reconnects to another, forever unless max_reconnects says otherwise, and
// reconnects() counts the moves. The client's security options pass through unchanged: user and
// password, a token, a credentials file, TLS with a CA. Secrets never appear in an error or in
// anything this module prints; URLs are shown with their user information cut off.
//
// libnats stays behind this header: a program that includes it does not need nats.h.
//
// Synchronization. A NatsConnection may be used by one thread at a time; libnats runs its own
// threads (reading, flushing, reconnecting) behind it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc::nats {

struct NatsOptions {
  std::vector<std::string> urls{};  // nats://host:port, tls://host:port, ...
  std::string user{};
  std::string password{};
  std::string token{};
  std::string credentials_file{};  // a .creds file (JWT and NKey seed)
  std::string tls_ca{};            // a CA file: TLS is required and the server verified with it
  std::string name{};              // the client name the server shows (connz)
  std::chrono::milliseconds connect_timeout{2000};
  // -1: reconnect forever.
  int max_reconnects = -1;
  std::chrono::milliseconds reconnect_wait{100};
};

// "nats://a:4222,nats://b:4222" (or bare host:port items) as a list; Errc::invalid_argument for
// an empty list or an empty item.
Result<std::vector<std::string>> parse_nats_urls(std::string_view text);
// `url` with any user information (user:password@, token@) removed, for printing.
std::string redact_url(std::string_view url);
// "3.4.1": the NATS C client this program runs with.
std::string client_version();

struct NatsConnectionStats {
  std::uint64_t reconnects = 0;
  std::uint64_t disconnects = 0;
  std::uint64_t async_errors = 0;  // slow consumer, permission violations, ... seen by the client
};

namespace detail {
struct NatsConnectionState;
}
class Exporter;
class Importer;

class NatsConnection {
 public:
  // Connects to one server of options.urls. Errc::rejected when the server refused our
  // credentials or subject permissions, Errc::closed when no server could be reached,
  // Errc::invalid_argument for bad options.
  static Result<NatsConnection> connect(const NatsOptions& options);

  NatsConnection(NatsConnection&&) noexcept;
  NatsConnection& operator=(NatsConnection&&) noexcept;
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;
  ~NatsConnection();

  // The server in use now ("nats://127.0.0.1:4222"), empty while reconnecting.
  std::string connected_url() const;
  std::string server_id() const;
  // The largest payload the server accepts, headers included.
  std::size_t max_payload() const;
  NatsConnectionStats stats() const;
  // The last asynchronous error the server sent (a permission violation, say), empty if none.
  std::string last_async_error() const;
  // Waits until the server has processed everything published so far.
  Result<void> flush(std::chrono::milliseconds timeout);

 private:
  friend class Exporter;
  friend class Importer;
  explicit NatsConnection(std::unique_ptr<detail::NatsConnectionState> state) noexcept;
  std::unique_ptr<detail::NatsConnectionState> state_;
};

}  // namespace zc::nats
