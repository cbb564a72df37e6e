// src/nats/nats_connection_state.hpp: what a NatsConnection owns, and the counters libnats'
// callbacks update from its own threads.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace zc::nats::detail {

struct NatsConnectionState {
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;

  // Written by libnats' callback threads, read by the owner: relaxed counters (no data is
  // published through them).
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> disconnects{0};
  std::atomic<std::uint64_t> async_errors{0};
  mutable std::mutex error_mutex;
  std::string last_async_error;  // guarded by error_mutex

  ~NatsConnectionState() {
    if (connection != nullptr) {
      natsConnection_Close(connection);
      natsConnection_Destroy(connection);
    }
    if (options != nullptr) natsOptions_Destroy(options);
  }
};

}  // namespace zc::nats::detail
