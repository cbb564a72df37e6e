// src/nats/nats_connection_state.hpp: what a NatsConnection owns, and the counters libnats'
// callbacks update from its own threads.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace zc::nats::detail {

struct NatsConnectionState {
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;

  // Written by libnats' callback threads, read by the owner: relaxed counters (no data is
  // published through them).
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> disconnects{0};
  std::atomic<std::uint64_t> async_errors{0};
  // Set by the closed callback, the last one libnats delivers for a connection: until then its
  // callback thread may still reach this object. Release pairs with the destructor's acquire.
  std::atomic<bool> closed{false};
  mutable std::mutex error_mutex;
  std::string last_async_error;  // guarded by error_mutex

  ~NatsConnectionState() {
    if (connection != nullptr) {
      natsConnection_Close(connection);
      // Callbacks run on libnats' own thread, after Close returns: wait for the last one before
      // this object goes (bounded, in case a client version skips it).
      for (int i = 0; i < 5000 && !closed.load(std::memory_order_acquire); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      natsConnection_Destroy(connection);
    }
    if (options != nullptr) natsOptions_Destroy(options);
  }
};

}  // namespace zc::nats::detail
