// The publisher's private ledger of chunk references: which subscriber holds which chunk, how
// many holders each chunk has, and taking chunks back (returns, drops, departures). Every index a
// subscriber hands back is checked here against what it was actually sent.
#include <string>

#include "publisher_state.hpp"

namespace zc::detail {

bool PublisherState::refresh_tail(std::size_t slot) {
  SubscriberLink& link = *links[slot];
  // SYNC POINT (pairs with the acq_rel compare-and-swap of tail in the subscriber's
  // try_receive()): once we see its tail, its reads of the descriptor slots before it are done,
  // so we may refill them.
  const std::uint64_t tail = link.ctl->tail.load(std::memory_order_acquire);
  if (tail < link.tail || tail > link.head) {
    remove(slot, Departure::faulted);
    return false;
  }
  link.tail = tail;
  return true;
}

bool PublisherState::drop_oldest(std::size_t slot) {
  SubscriberLink& link = *links[slot];
  std::uint64_t expected = link.tail;
  if (expected == link.head) return false;
  // Whoever moves tail past a position owns that entry's chunk reference: the subscriber (a
  // receive) or we (a drop). The compare-and-swap decides, so the reference is released once.
  if (link.ctl->tail.compare_exchange_strong(expected, expected + 1, std::memory_order_acq_rel,
                                             std::memory_order_acquire)) {
    const std::uint32_t chunk = link.sent[expected & (geometry.queue_depth - 1)];
    link.tail = expected + 1;
    ++counters.dropped;
    // Relaxed: a counter the subscriber reads for information only.
    link.ctl->dropped.fetch_add(1, std::memory_order_relaxed);
    take_back(link, chunk);
    return true;
  }
  // The subscriber took it first (or wrote nonsense): re-validate.
  return refresh_tail(slot);
}

void PublisherState::drop_reference(std::uint32_t chunk) {
  if (--refs[chunk] != 0) return;
  if (collecting_freed) {
    freed.push_back(chunk);
  } else {
    (void)pool.give_back(chunk);
  }
}

bool PublisherState::take_back(SubscriberLink& link, std::uint32_t chunk) {
  if (chunk >= geometry.chunk_count || link.held[chunk] == 0) {
    ++counters.rejected_returns;
    return false;
  }
  link.held[chunk] = 0;
  --link.holding;
  drop_reference(chunk);
  return true;
}

void PublisherState::drain_releases(std::size_t slot) {
  SubscriberLink& link = *links[slot];
  // One pass: SpscRing::readable() acquires the ring's head once (pairs with the subscriber's
  // push) and consume() stores its tail once, where front() and pop() per index stored the tail,
  // a line the subscriber reads, once per chunk. Two spans at most, at the ring's wrap.
  for (int part = 0; part < 2; ++part) {
    const std::span<std::uint32_t> chunks = link.releases->readable(geometry.release_capacity);
    if (chunks.empty()) break;
    for (const std::uint32_t chunk : chunks) take_back(link, chunk);
    link.returned += chunks.size();
    link.releases->consume(chunks.size());
  }
  if (link.releases->consumer_faulted()) remove(slot, Departure::faulted);
}

void PublisherState::drain_all_releases() {
  // The pool's free list is a stack. Given back in the order they were returned, the chunk a
  // subscriber read last would be loaned first, while its lines still sit in that subscriber's
  // cache and every write must take them from there. Given back newest first, the loans go
  // oldest first, as in a ring, and the lines have had time to leave the reader's cache.
  collecting_freed = true;
  for (std::size_t i = 0; i < links_end; ++i) {
    if (links[i]) drain_releases(i);
  }
  collecting_freed = false;
  // One move of the pool's free list for all of them, the oldest return on top.
  (void)pool.give_back_n(freed);
  freed.clear();
}

void PublisherState::close() {
  if (closed) return;
  closed = true;
  for (auto& link : links) {
    if (!link) continue;
    // SYNC POINT (pairs with the acquire load of closed in the subscriber's try_receive()):
    // every head we stored before is visible to a subscriber that sees closed.
    link->ctl->closed.store(1, std::memory_order_release);
    signal_eventfd(link->wake.get());
  }
}

void PublisherState::withdraw_waiting() {
  for (auto& link : links) {
    if (!link || !link->asked) continue;
    link->asked = false;
    // A read-modify-write, not a store, so that the flag's modification order holds only
    // read-modify-writes: each one then synchronises with every release one before it (one
    // release sequence), which the "Sleeping" argument needs.
    (void)link->ctl->publisher_waiting.exchange(0, std::memory_order_acq_rel);
  }
}

}  // namespace zc::detail
