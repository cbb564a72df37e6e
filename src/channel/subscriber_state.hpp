// What a Subscriber keeps: its mappings, descriptors and the state of its side of the queue.
// Private to the channel module; used by subscriber.cpp (receiving) and subscriber_connect.cpp
// (the admission handshake).
#pragma once

#include <atomic>
#include <optional>
#include <span>
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

  // Returns chunk references to the publisher: one store of the release ring's head and one
  // wake-up check for all of them. Never blocks: a full release ring (impossible for an honest
  // publisher, which sizes it for every chunk) keeps the indices for later.
  void release(std::span<const std::uint32_t> chunks) noexcept {
    try {
      std::span<const std::uint32_t> out = chunks;
      if (!pending.empty()) {
        pending.insert(pending.end(), chunks.begin(), chunks.end());
        out = pending;
      }
      const std::size_t pushed = releases->try_push_n(out);
      returned += pushed;
      if (pending.empty()) {
        pending.assign(out.begin() + static_cast<std::ptrdiff_t>(pushed), out.end());
      } else {
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(pushed));
      }
    } catch (...) {
      // Out of memory: the chunks stay ours until we leave, when the publisher reclaims them.
    }
    wake_publisher_if_due();
  }
  void release(std::uint32_t chunk) noexcept { release(std::span<const std::uint32_t>(&chunk, 1)); }

  // One descriptor as take() read it from the queue, not yet checked.
  struct Taken {
    std::uint64_t sequence = 0;
    std::uint64_t packed = 0;  // chunk << 32 | length
  };
  // Takes up to out.size() queued descriptors with one store (or compare-and-swap) of tail.
  // Returns how many: 0 when none is queued; Errc::closed at the end of the stream,
  // Errc::corrupt when the indices are impossible (subscriber.cpp).
  Result<std::size_t> take(std::span<Taken> out);

  // After every take and every return: wakes a waiting publisher once we have made the progress
  // it asked for, or whatever it asked if we have run dry. See "Sleeping" in publisher.cpp.
  void wake_publisher_if_due() noexcept {
    std::uint32_t waiting = 0;
    if ((geometry.remote_fences & kSubscriberFenced) != 0) {
      // SYNC POINT (pairs with the release exchange in the publisher's announce_waiting(), and
      // with the membarrier it calls after it): a plain load, kept after our stores by the
      // compiler barrier; the barrier the publisher forces on us before its last look makes
      // either this load see its flag or that look see our stores. Acquire: seeing the flag, we
      // see the wish stored before it.
      std::atomic_signal_fence(std::memory_order_seq_cst);
      waiting = ctl->publisher_waiting.load(std::memory_order_acquire);
    } else {
      // SYNC POINT (pairs with the exchanges in the publisher's announce_waiting() and
      // withdraw_waiting()): an unconditional read-modify-write, so that either we see its flag
      // (and, synchronising with it, the wish stored before it) or it synchronises with us and
      // its last look sees the tail or return we just stored.
      waiting = ctl->publisher_waiting.fetch_or(0, std::memory_order_acq_rel);
    }
    if (waiting == 0) return;
    const bool due = idle || taken_to >= ctl->wake_tail.load(std::memory_order_relaxed) ||
                     returned >= ctl->wake_returned.load(std::memory_order_relaxed);
    if (due && ctl->publisher_waiting.exchange(0, std::memory_order_acq_rel) != 0) {
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
  std::vector<Taken> taken;                         // try_receive_n's scratch space
  std::uint64_t taken_to = 0;     // our tail after our last take (the publisher may drop past it)
  std::uint64_t returned = 0;     // chunk indices pushed into the release ring, in all
  bool idle = false;              // the last take found nothing: every return wakes the publisher
  std::uint32_t spin_budget = 0;  // polls before sleeping now (wait_for_message adapts it)
  SubscriberOptions options;
  pid_t publisher_pid = 0;
  bool publisher_dead = false;
  // membarrier failed although the publisher counts on it (seccomp): our sleeps are bounded.
  bool unfenced = false;
};

// How long a subscriber that cannot fence the publisher sleeps before it looks again.
inline constexpr int kUnfencedSleepMs = 1;

}  // namespace zc::detail
