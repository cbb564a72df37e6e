// What a Publisher keeps in its own private memory: the per-chunk reference counts, and for each
// subscriber what it was sent and still holds. Nothing here is ever read back from shared memory
// except the subscriber's tail and release ring, and both are checked against these records.
// Private to the channel module; used by publisher.cpp (data path) and publisher_peers.cpp
// (admission, departure, events).
#pragma once

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "remote_fence.hpp"
#include "write_prefetch.hpp"
#include "zcopy/channel/channel_layout.hpp"
#include "zcopy/channel/channel_options.hpp"
#include "zcopy/channel/publisher.hpp"
#include "zcopy/core/fd_passing.hpp"
#include "zcopy/core/wake.hpp"
#include "zcopy/mem/buffer_pool.hpp"
#include "zcopy/mem/region.hpp"
#include "zcopy/ring/spsc_ring.hpp"

namespace zc::detail {

// One admitted subscriber, as the publisher sees it.
struct SubscriberLink {
  SubscriberLink(UnixSocket peer_socket, Region control_region) noexcept
      : socket(std::move(peer_socket)), control(std::move(control_region)) {}

  UnixSocket socket;
  Region control;                                   // its control region, our writable mapping
  Fd pidfd;                                         // readable once its process exits
  Fd wake;                                          // its eventfd: we signal it when it sleeps
  ChannelControl* ctl = nullptr;                    // in `control`
  DescriptorSlot* slots = nullptr;                  // in `control`, queue_depth of them
  std::optional<SpscRing<std::uint32_t>> releases;  // we are the consumer
  pid_t pid = 0;
  std::uint32_t generation = 0;  // tells its epoll events from a later occupant's of the same slot
  std::uint64_t head = 0;        // our copy of ctl->head: the next position we fill
  std::uint64_t tail = 0;        // the subscriber's tail as we last validated it (tail <= head)
  std::uint64_t returned = 0;    // indices taken from its release ring, valid or not
  std::uint64_t holding = 0;     // chunks it holds a reference to (ones in `held`)
  bool asked = false;            // we set its publisher_waiting and have not cleared it yet
  bool fenced = false;  // it looks at publisher_waiting with a plain load: we fence it first
  std::vector<std::uint32_t> sent;  // chunk at each queue position (position & mask)
  std::vector<std::uint8_t> held;   // per chunk: 1 while this subscriber holds a reference
};

// A connection whose hello has not been read yet.
struct PendingPeer {
  UnixSocket socket;
  Clock::time_point deadline;  // closed (counted silent) if no hello has come by then
  bool refused = false;        // refused at connect: its hello is only read away, then it closes
};

// What epoll_wait hands back: the kind of descriptor, a link slot and its generation.
enum class EventKind : std::uint64_t {
  listener = 1,
  wake = 2,
  pending = 3,
  socket = 4,
  pidfd = 5,
  timer = 6,
};
inline std::uint64_t event_data(EventKind kind, std::uint64_t slot, std::uint32_t generation) {
  return static_cast<std::uint64_t>(kind) | slot << 8 | std::uint64_t{generation} << 32;
}

enum class Departure { left, died, faulted };

// What a waiting publisher asks of one subscriber before it is worth waking (ChannelControl's
// wake_tail and wake_returned); UINT64_MAX: not by that measure.
struct WakeWhen {
  std::uint64_t tail = UINT64_MAX;
  std::uint64_t returned = UINT64_MAX;
};

// A waiting publisher asks nothing of any subscriber (it waits for connections or a timer).
inline std::optional<WakeWhen> ask_nobody(const SubscriberLink&) {
  return std::nullopt;
}

// EMFILE or ENFILE: this process, or the whole system, has no descriptor left.
inline bool out_of_descriptors(int errno_value) {
  return errno_value == EMFILE || errno_value == ENFILE;
}

// Sends `reason` behind the refusal prefix (handshake.hpp); a vanished peer is ignored.
void refuse(UnixSocket& socket, const std::string& reason);

// Polls of a subscriber's tail or release ring before the publisher sleeps, at most and at least.
// At most about as long as a sleep and its wake-up cost (membarrier, epoll, the subscriber's
// eventfd write: some microseconds), the usual bound for spinning before blocking: a subscriber on
// another CPU frees room well within it, one that lost its CPU will not, and longer spins only
// take CPU from it on a machine with more runnable processes than CPUs. A spin that ends in a
// sleep halves the budget, one that succeeds doubles it, as the subscriber's does.
inline constexpr std::uint32_t kPublisherMaxSpins = 256;
inline constexpr std::uint32_t kPublisherMinSpins = 16;

struct PublisherState {
  PublisherState(std::string channel_name, const ChannelOptions& channel_options,
                 BufferPool payload_pool, UnixListener socket_listener) noexcept
      : name(std::move(channel_name)),
        options(channel_options),
        pool(std::move(payload_pool)),
        listener(std::move(socket_listener)) {}
  ~PublisherState() { close(); }

  // ---- data path (publisher.cpp) ----
  // Checks the subscriber's tail against what we know; cuts it off if impossible.
  bool refresh_tail(std::size_t slot);
  // Takes back the oldest unread entry of a subscriber (drop_oldest). False when its queue is
  // empty.
  bool drop_oldest(std::size_t slot);
  // Drops one reference; the chunk goes back to the pool at zero.
  void drop_reference(std::uint32_t chunk);
  // The subscriber gives back `chunk`: accepted only if it holds it.
  bool take_back(SubscriberLink& link, std::uint32_t chunk);
  void drain_releases(std::size_t slot);
  void drain_all_releases();
  void close();

  // ---- connections before their hello (publisher_pending.cpp) ----
  PeerPolicy admission_policy() const;
  // Takes what the listener has, a batch at a time, making room when descriptors run out.
  void accept_ready();
  // A new connection: checked by its connect credentials, answered at once if its hello is
  // there, otherwise held as pending (pushing out the oldest beyond max_pending).
  void take_connection(UnixSocket socket);
  void read_hello(std::uint64_t token);
  void answer_hello(UnixSocket socket);
  // Closes the oldest pending connection; false when there is none.
  bool drop_oldest_pending();
  // Gives up the spare descriptor to take one connection and tell it we have none for it.
  bool refuse_without_descriptor();
  void pause_accepting();
  void resume_accepting();
  void timer_fired();
  // Sets the timer for the oldest pending deadline or the end of a pause, whichever is first.
  void arm_timer();

  // ---- peers and events (publisher_peers.cpp) ----
  void handle_events(int timeout_ms);
  // `fenced`: the subscriber said it is registered for membarrier (kHelloFenced).
  Result<void> admit(UnixSocket socket, pid_t pid, bool fenced);
  void remove(std::size_t slot, Departure why);
  // Sleeps (epoll) until `ready()` holds or `deadline`, handling events meanwhile. Each
  // subscriber for which `want` gives a WakeWhen is told we sleep, and wakes us once it has made
  // that much progress or has nothing left to do (see "Sleeping" in publisher.cpp).
  template <class Ready, class Want>
  bool wait_until(Ready ready, Clock::time_point deadline, Want want);
  // Polls `ready()` for a while before a wait_until() for a subscriber's progress: a subscriber
  // on another CPU frees a slot or a chunk within microseconds, less than the membarrier, epoll
  // sleep and eventfd signal of a wait cost (kPublisherMaxSpins).
  template <class Ready>
  bool spin_until(Ready ready);
  // Sets publisher_waiting for the subscribers `want` asks something of; true if any was asked
  // for more than its next step (then our sleeps are bounded, see publisher.cpp).
  template <class Want>
  bool announce_waiting(Want want);
  void withdraw_waiting();

  std::string name;
  ChannelOptions options;
  ChannelGeometry geometry;
  BufferPool pool;
  Fd pool_readonly;  // the sealed read-only descriptor every subscriber gets
  UnixListener listener;
  Fd epoll;
  Fd wake;     // our eventfd, signalled by subscribers when we announced that we wait
  Fd timer;    // a timerfd: the oldest pending deadline, or the end of a pause in accepting
  Fd reserve;  // a spare descriptor, given up to refuse a connection when we have no other
  std::vector<std::unique_ptr<SubscriberLink>> links;  // max_subscribers slots, null when free
  // Every slot from links_end on is free (admit() takes the lowest free one): the data path
  // walks links[0, links_end) only, so a channel with room for 16 and one subscriber looks at
  // one slot per message, not 16 (three walks per publish were a third of its cost).
  std::size_t links_end = 0;
  std::size_t subscribers = 0;                   // occupied slots
  std::map<std::uint64_t, PendingPeer> pending;  // by token, so the oldest comes first
  std::optional<Clock::time_point> timer_at;     // when `timer` fires, if armed
  std::optional<Clock::time_point> accept_paused_until;
  std::uint64_t next_token = 1;
  std::uint32_t next_generation = 1;
  std::vector<std::uint32_t> refs;  // per chunk: references held by subscribers (and by publish)
  // Chunks freed during drain_all_releases() or a departure, oldest return first, given back to
  // the pool in one run after.
  std::vector<std::uint32_t> freed;
  bool collecting_freed = false;
  PublisherStats counters;
  std::string fences;  // Publisher::fences(): "membarrier" or "seq_cst (why)"
  bool closed = false;
  std::chrono::nanoseconds last_service{};         // coarse_now() at the last service()
  std::uint32_t spin_budget = kPublisherMaxSpins;  // polls before waiting now (spin_until)
  bool write_prefetch = write_prefetch_supported();
};

// Asked for more than its next step, a subscriber that stops short of it without running dry
// (it keeps samples, then returns a few and stops receiving) does not wake us; we look again
// this often.
inline constexpr int kHysteresisRecheckMs = 5;

template <class Want>
bool PublisherState::announce_waiting(Want want) {
  bool beyond_next = false;
  bool fence = false;
  for (auto& link : links) {
    if (!link) continue;
    const std::optional<WakeWhen> when = want(*link);
    if (!when) continue;
    beyond_next = beyond_next || (when->tail != UINT64_MAX && when->tail > link->tail + 1) ||
                  (when->returned != UINT64_MAX && when->returned > link->returned + 1);
    // Relaxed: the exchange below publishes them to the subscriber's read-modify-write.
    link->ctl->wake_tail.store(when->tail, std::memory_order_relaxed);
    link->ctl->wake_returned.store(when->returned, std::memory_order_relaxed);
    // SYNC POINT (pairs with the read-modify-writes in the subscriber's
    // wake_publisher_if_due()): see "Sleeping" in publisher.cpp.
    (void)link->ctl->publisher_waiting.exchange(1, std::memory_order_acq_rel);
    link->asked = true;
    fence = fence || link->fenced;
  }
  // A fenced subscriber's plain load of the flag may run ahead of its last store of tail or of
  // its release ring: the barrier we force on it makes either its load see our flag or our last
  // look (after this) see its stores. Where the call fails, we look again every
  // kHysteresisRecheckMs instead.
  if (fence && !fence_remote_threads()) beyond_next = true;
  return beyond_next;
}

template <class Ready>
bool PublisherState::spin_until(Ready ready) {
  for (std::uint32_t i = 0; i < spin_budget; ++i) {
    cpu_relax();
    if (ready()) {
      spin_budget = std::min(kPublisherMaxSpins, spin_budget * 2 + kPublisherMinSpins);
      return true;
    }
  }
  spin_budget = std::max(kPublisherMinSpins, spin_budget / 2);
  return false;
}

template <class Ready, class Want>
bool PublisherState::wait_until(Ready ready, Clock::time_point deadline, Want want) {
  for (;;) {
    if (ready()) return true;
    const bool bounded = announce_waiting(want);
    if (ready()) {
      withdraw_waiting();
      return true;
    }
    const int ms = remaining_ms(deadline);
    handle_events(bounded ? std::min(ms, kHysteresisRecheckMs) : ms);
    withdraw_waiting();
    if (ms == 0 || (bounded && Clock::now() >= deadline)) return ready();
  }
}

}  // namespace zc::detail
