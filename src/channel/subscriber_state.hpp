// What a Subscriber keeps: its mappings, descriptors and the state of its side of the queue.
// Private to the channel module; used by subscriber.cpp (receiving) and subscriber_connect.cpp
// (the admission handshake).
#pragma once

#include <optional>
#include <vector>

#include "zcopy/channel/channel_layout.hpp"
#include "zcopy/channel/channel_options.hpp"
#include "zcopy/core/fd_passing.hpp"
#include "zcopy/core/wake.hpp"
#include "zcopy/mem/buffer_pool.hpp"
#include "zcopy/mem/region.hpp"
#include "zcopy/ring/spsc_ring.hpp"

namespace zc::detail {

struct SubscriberState {
  SubscriberState(UnixSocket peer, Region payloads, Region control_region) noexcept
      : socket(std::move(peer)), pool(std::move(payloads)), control(std::move(control_region)) {}

  // Returns a chunk reference to the publisher. Never blocks: a full release ring (impossible
  // for an honest publisher, which sizes it for every chunk) keeps the index for later.
  void release(std::uint32_t chunk) noexcept {
    try {
      pending.push_back(chunk);
      const std::size_t pushed =
          releases->try_push_n(std::span<const std::uint32_t>(pending.data(), pending.size()));
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(pushed));
    } catch (...) {
      // Out of memory: the chunk stays ours until we leave, when the publisher reclaims it.
    }
    wake_publisher_if_waiting();
  }

  void wake_publisher_if_waiting() noexcept {
    // SYNC POINT (pairs with the exchange in the publisher's announce_waiting()): an
    // unconditional read-modify-write, so that either we see its flag or it synchronises with us
    // and sees the tail or return we just stored. See "Sleeping" in publisher.cpp.
    if (ctl->publisher_waiting.exchange(0, std::memory_order_acq_rel) != 0) {
      signal_eventfd(publisher_wake.get());
    }
  }

  UnixSocket socket;  // kept open: closing it tells the publisher we left
  Region pool;        // payloads, mapped read-only
  Region control;     // our control region, read-write
  Fd wake;            // the publisher signals it when we sleep
  Fd publisher_wake;  // we signal it when the publisher waits
  Fd pidfd;           // the publisher's process
  Fd epoll;           // wake + pidfd, for fd()
  ChannelGeometry geometry;
  PoolGeometry pool_geometry;
  ChannelControl* ctl = nullptr;
  DescriptorSlot* slots = nullptr;
  std::optional<SpscRing<std::uint32_t>> releases;  // we are the producer
  std::vector<std::uint32_t> pending;               // returns the ring could not take yet
  SubscriberOptions options;
  pid_t publisher_pid = 0;
  bool publisher_dead = false;
};

}  // namespace zc::detail
