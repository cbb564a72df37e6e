// src/nats/ack_queue.hpp: JetStream messages waiting for their acknowledgement until every local
// subscriber has released the chunk they were copied into. The acknowledgement is the buffer's
// lifetime, as a zero-copy send's completion is: a message is acked only once no reader holds it,
// so an import killed at any point leaves the server to redeliver what was not fully read.
//
// A chunk is known released when the channel says no subscriber holds it any more (so also
// whenever the pool lends it to us again: it can only be free if everyone gave it back).
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <deque>

#include "zcopy/channel/publisher.hpp"

namespace zc::nats::detail {

class AckQueue {
 public:
  AckQueue() = default;
  AckQueue(const AckQueue&) = delete;
  AckQueue& operator=(const AckQueue&) = delete;
  // Unacknowledged messages are dropped without an ack: the server redelivers them.
  ~AckQueue();

  // Takes ownership of `msg`, published in `chunk`.
  void push(std::uint32_t chunk, natsMsg* msg);
  // Acks every message whose chunk no subscriber holds any more.
  void ack_released(const Publisher& publisher);
  // Drops every message unacknowledged; returns how many. For when their subscription is about
  // to go: a message's ack goes through the subscription it came by, so none may outlive it.
  std::size_t drop_all() noexcept;

  std::uint64_t acked() const noexcept { return acked_; }
  std::uint64_t ack_failures() const noexcept { return ack_failures_; }
  std::size_t waiting() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    std::uint32_t chunk;
    natsMsg* msg;  // owned
  };
  void ack(Entry& entry);

  std::deque<Entry> entries_;
  std::uint64_t acked_ = 0;
  std::uint64_t ack_failures_ = 0;
};

}  // namespace zc::nats::detail
