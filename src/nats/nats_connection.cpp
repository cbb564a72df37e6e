// src/nats/nats_connection.cpp: connecting to a NATS cluster with the client's own options.
#include "zcopy/nats/nats_connection.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <climits>

#include "nats_connection_state.hpp"
#include "nats_status.hpp"
#include "server_probe.hpp"

namespace zc::nats {
namespace {

std::int64_t to_ms(std::chrono::milliseconds duration) {
  return static_cast<std::int64_t>(duration.count());
}

void on_disconnected(natsConnection* /*connection*/, void* closure) {
  static_cast<detail::NatsConnectionState*>(closure)->disconnects.fetch_add(
      1, std::memory_order_relaxed);
}

void on_reconnected(natsConnection* /*connection*/, void* closure) {
  static_cast<detail::NatsConnectionState*>(closure)->reconnects.fetch_add(
      1, std::memory_order_relaxed);
}

void on_closed(natsConnection* /*connection*/, void* closure) {
  static_cast<detail::NatsConnectionState*>(closure)->closed.store(true, std::memory_order_release);
}

void on_error(natsConnection* connection, natsSubscription* /*subscription*/, natsStatus status,
              void* closure) {
  auto* state = static_cast<detail::NatsConnectionState*>(closure);
  state->async_errors.fetch_add(1, std::memory_order_relaxed);
  const char* text = nullptr;
  natsConnection_GetLastError(connection, &text);
  std::lock_guard lock(state->error_mutex);
  state->last_async_error =
      (text != nullptr && *text != '\0') ? std::string(text) : natsStatus_GetText(status);
}

Result<void> check(natsStatus status, const char* operation) {
  if (status == NATS_OK) return {};
  return std::unexpected(nats_error(status, operation));
}

Result<void> apply(natsOptions* nopts, const NatsOptions& options,
                   detail::NatsConnectionState* state) {
  std::vector<const char*> servers;
  servers.reserve(options.urls.size());
  for (const std::string& url : options.urls) servers.push_back(url.c_str());
  if (servers.empty()) return fail(Errc::invalid_argument, "nats connect", "no server URL given");
  if (auto r = check(
          natsOptions_SetServers(nopts, servers.data(),
                                 static_cast<int>(std::min<std::size_t>(servers.size(), INT_MAX))),
          "nats: server list");
      !r) {
    return r;
  }
  if (!options.user.empty() || !options.password.empty()) {
    if (auto r =
            check(natsOptions_SetUserInfo(nopts, options.user.c_str(), options.password.c_str()),
                  "nats: user and password");
        !r) {
      return r;
    }
  }
  if (!options.token.empty()) {
    if (auto r = check(natsOptions_SetToken(nopts, options.token.c_str()), "nats: token"); !r) {
      return r;
    }
  }
  if (!options.credentials_file.empty()) {
    if (auto r = check(natsOptions_SetUserCredentialsFromFiles(
                           nopts, options.credentials_file.c_str(), nullptr),
                       "nats: credentials file");
        !r) {
      return r;
    }
  }
  if (!options.tls_ca.empty()) {
    if (auto r = check(natsOptions_SetSecure(nopts, true), "nats: TLS"); !r) return r;
    if (auto r = check(natsOptions_LoadCATrustedCertificates(nopts, options.tls_ca.c_str()),
                       "nats: TLS CA file");
        !r) {
      return r;
    }
  }
  if (!options.name.empty()) {
    if (auto r = check(natsOptions_SetName(nopts, options.name.c_str()), "nats: name"); !r) {
      return r;
    }
  }
  natsOptions_SetTimeout(nopts, to_ms(options.connect_timeout));
  natsOptions_SetMaxReconnect(nopts, options.max_reconnects);
  natsOptions_SetReconnectWait(nopts, to_ms(options.reconnect_wait));
  // Keep the configured order: the first URL is the one the user asked for first.
  natsOptions_SetNoRandomize(nopts, true);
  natsOptions_SetDisconnectedCB(nopts, on_disconnected, state);
  natsOptions_SetReconnectedCB(nopts, on_reconnected, state);
  natsOptions_SetErrorHandler(nopts, on_error, state);
  natsOptions_SetClosedCB(nopts, on_closed, state);
  return {};
}

}  // namespace

Result<std::vector<std::string>> parse_nats_urls(std::string_view text) {
  std::vector<std::string> urls;
  std::size_t from = 0;
  while (from <= text.size()) {
    const std::size_t comma = std::min(text.find(',', from), text.size());
    std::string_view item = text.substr(from, comma - from);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) {
      return fail(Errc::invalid_argument, "--nats",
                  "empty server URL in the list (expected nats://HOST:PORT[,...])");
    }
    urls.emplace_back(item.find("://") == std::string_view::npos ? "nats://" + std::string(item)
                                                                 : std::string(item));
    from = comma + 1;
  }
  return urls;
}

std::string redact_url(std::string_view url) {
  const std::size_t scheme = url.find("://");
  const std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  const std::size_t at = url.find('@', start);
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, start)) + std::string(url.substr(at + 1));
}

std::string client_version() {
  return nats_GetVersion();
}

Result<NatsConnection> NatsConnection::connect(const NatsOptions& options) {
  auto state = std::make_unique<detail::NatsConnectionState>();
  if (natsStatus s = natsOptions_Create(&state->options); s != NATS_OK) {
    return std::unexpected(nats_error(s, "nats: options"));
  }
  if (auto applied = apply(state->options, options, state.get()); !applied) {
    return std::unexpected(applied.error());
  }
  if (natsStatus s = natsConnection_Connect(&state->connection, state->options); s != NATS_OK) {
    state->connection = nullptr;
    std::string servers;
    for (const std::string& url : options.urls) {
      if (!servers.empty()) servers += ",";
      servers += redact_url(url);
    }
    Error error = nats_error(s, "nats connect " + servers);
    // "No server available" says nothing about why: ask the first server ourselves.
    if (s == NATS_NO_SERVER && !options.urls.empty()) {
      if (std::string why = detail::explain_unreachable(options.urls.front()); !why.empty()) {
        error = Error::make(Errc::closed, "nats connect " + servers, why);
      }
    }
    return std::unexpected(std::move(error));
  }
  return NatsConnection(std::move(state));
}

NatsConnection::NatsConnection(std::unique_ptr<detail::NatsConnectionState> state) noexcept
    : state_(std::move(state)) {}
NatsConnection::NatsConnection(NatsConnection&&) noexcept = default;
NatsConnection& NatsConnection::operator=(NatsConnection&&) noexcept = default;
NatsConnection::~NatsConnection() = default;

std::string NatsConnection::connected_url() const {
  char buffer[512] = {};
  if (natsConnection_GetConnectedUrl(state_->connection, buffer, sizeof buffer) != NATS_OK) {
    return {};
  }
  return redact_url(buffer);
}

std::string NatsConnection::server_id() const {
  char buffer[256] = {};
  if (natsConnection_GetConnectedServerId(state_->connection, buffer, sizeof buffer) != NATS_OK) {
    return {};
  }
  return buffer;
}

std::size_t NatsConnection::max_payload() const {
  const std::int64_t payload = natsConnection_GetMaxPayload(state_->connection);
  return payload > 0 ? static_cast<std::size_t>(payload) : 0;
}

NatsConnectionStats NatsConnection::stats() const {
  return {.reconnects = state_->reconnects.load(std::memory_order_relaxed),
          .disconnects = state_->disconnects.load(std::memory_order_relaxed),
          .async_errors = state_->async_errors.load(std::memory_order_relaxed)};
}

std::string NatsConnection::last_async_error() const {
  std::lock_guard lock(state_->error_mutex);
  return state_->last_async_error;
}

Result<void> NatsConnection::flush(std::chrono::milliseconds timeout) {
  return check(natsConnection_FlushTimeout(state_->connection, to_ms(timeout)), "nats flush");
}

}  // namespace zc::nats
