// src/xdp/xsk_ring.hpp: our side of the four AF_XDP rings, which live in memory the kernel maps
// into this process (fill, rx, tx, completion).
//
// Each ring is an array of entries (a UMEM address for fill and completion, an xdp_desc for rx
// and tx) with a producer and a consumer index, 32-bit and free-running (slot = index & mask).
// We produce into fill and tx and the kernel consumes them; the kernel produces into rx and
// completion and we consume them. Each side writes only its own index and keeps a cached copy of
// the other's, which it re-reads only when the cache says the ring is full (producer) or empty
// (consumer).
//
//   producer (fill, tx: us)                    consumer (rx, completion: us)
//   load-acquire consumer        (A)           load-acquire producer        (C)
//   write the entries                          read the entries
//   store-release producer       (B)           store-release consumer       (D)
//
// (B) pairs with the other side's (C): entries written before the producer index moves are seen
// by whoever sees the new index. (D) pairs with the other side's (A): the slots a consumer
// releases are read out before the producer can see them free and overwrite them. The kernel's
// half of each pair is in net/xdp/xsk_queue.h.
//
// Trust: the indices live in memory any process holding the socket can map and scribble on, so
// a distance between the indices larger than the ring is a fault: counted, and never used to read
// an entry; every index is masked before use, and the entries themselves are validated by Socket.
//
// Synchronization: one thread at a time per ring (the socket's owner); a ring has no lock.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace zc::xdp::detail {

// Where a ring's parts sit, as the kernel's mmap offsets place them.
template <class Entry>
struct RingMemory {
  std::uint32_t* producer = nullptr;
  std::uint32_t* consumer = nullptr;
  std::uint32_t* flags = nullptr;  // XDP_RING_NEED_WAKEUP, written by the kernel
  Entry* entries = nullptr;
  std::uint32_t size = 0;  // a power of two
};

inline std::uint32_t load_acquire(std::uint32_t* index) noexcept {
  return std::atomic_ref<std::uint32_t>(*index).load(std::memory_order_acquire);
}
inline std::uint32_t load_relaxed(std::uint32_t* index) noexcept {
  return std::atomic_ref<std::uint32_t>(*index).load(std::memory_order_relaxed);
}
inline void store_release(std::uint32_t* index, std::uint32_t value) noexcept {
  std::atomic_ref<std::uint32_t>(*index).store(value, std::memory_order_release);
}

// Our producer side of fill or tx.
template <class Entry>
class ProducerRing {
 public:
  ProducerRing() = default;
  explicit ProducerRing(const RingMemory<Entry>& memory) noexcept
      : memory_(memory),
        mask_(memory.size - 1),
        produced_(load_relaxed(memory.producer)),  // only we write it
        consumed_(load_acquire(memory.consumer)) {}

  bool valid() const noexcept { return memory_.entries != nullptr; }
  std::uint32_t size() const noexcept { return memory_.size; }

  // How many entries can be written now (at most `wanted`); refreshes the cached consumer index
  // only when the cache shows fewer than `wanted`.
  std::uint32_t free(std::uint32_t wanted) noexcept {
    std::uint32_t available = free_from_cache();
    if (available < wanted) {
      // SYNC POINT (A): acquire pairs with the kernel's release of the consumer index (its
      // (D)): the kernel has finished reading every slot up to there before we refill them.
      consumed_ = load_acquire(memory_.consumer);
      available = free_from_cache();
    }
    return std::min(available, wanted);
  }

  // The entry `offset` places after the last one published; write up to free() of them, then
  // submit().
  Entry& slot(std::uint32_t offset) noexcept {
    return memory_.entries[(produced_ + offset) & mask_];
  }

  void submit(std::uint32_t count) noexcept {
    produced_ += count;
    // SYNC POINT (B): release pairs with the kernel's acquire of the producer index (its (C)):
    // the entries written above are visible before the kernel can see them counted.
    store_release(memory_.producer, produced_);
  }

  // Entries published and not yet consumed, as of the last refresh.
  std::uint32_t outstanding() const noexcept { return memory_.size - free_from_cache(); }
  // Entries the kernel has not consumed yet, read now.
  std::uint32_t pending_now() noexcept {
    consumed_ = load_acquire(memory_.consumer);
    return memory_.size - free_from_cache();
  }

  // The kernel asks to be woken (sendto for tx, poll/recvfrom for fill) before it looks again.
  bool needs_wakeup() const noexcept {
    return (std::atomic_ref<std::uint32_t>(*memory_.flags).load(std::memory_order_relaxed) &
            kNeedWakeup) != 0;
  }

 private:
  static constexpr std::uint32_t kNeedWakeup = 1;  // XDP_RING_NEED_WAKEUP

  // A consumer index that claims more consumed than produced, or fewer than a ring behind, is a
  // scribble: then nothing is free, so we write nothing.
  std::uint32_t free_from_cache() const noexcept {
    const std::uint32_t in_flight = produced_ - consumed_;
    return in_flight > memory_.size ? 0 : memory_.size - in_flight;
  }

  RingMemory<Entry> memory_;
  std::uint32_t mask_ = 0;
  std::uint32_t produced_ = 0;  // our producer index (the shared one, once submitted)
  std::uint32_t consumed_ = 0;  // cached copy of the kernel's consumer index
};

// Our consumer side of rx or completion.
template <class Entry>
class ConsumerRing {
 public:
  ConsumerRing() = default;
  explicit ConsumerRing(const RingMemory<Entry>& memory) noexcept
      : memory_(memory),
        mask_(memory.size - 1),
        consumed_(load_relaxed(memory.consumer)),  // only we write it
        produced_(load_acquire(memory.producer)) {}

  bool valid() const noexcept { return memory_.entries != nullptr; }

  // How many entries can be read now (at most `wanted`); refreshes the cached producer index when
  // the cache shows none. A producer index more than a ring ahead of ours (or behind it) was
  // written by someone other than the kernel: nothing is read, the fault is counted (faults()),
  // and the next call looks again, by when the kernel's next store of its own index has put it
  // right.
  std::uint32_t available(std::uint32_t wanted) noexcept {
    std::uint32_t ready = produced_ - consumed_;
    if (ready == 0) {
      // SYNC POINT (C): acquire pairs with the kernel's release of the producer index (its
      // (B)): the entries it counted are written before we read them.
      const std::uint32_t produced = load_acquire(memory_.producer);
      ready = produced - consumed_;
      if (ready > memory_.size) {
        ++faults_;
        return 0;
      }
      produced_ = produced;
    }
    return std::min(ready, wanted);
  }

  // The entry `offset` places after the last one released; read up to available() of them, then
  // release().
  const Entry& slot(std::uint32_t offset) const noexcept {
    return memory_.entries[(consumed_ + offset) & mask_];
  }

  void release(std::uint32_t count) noexcept {
    consumed_ += count;
    // SYNC POINT (D): release pairs with the kernel's acquire of the consumer index (its (A)):
    // we are done reading these slots before the kernel may overwrite them.
    store_release(memory_.consumer, consumed_);
  }

  // Times the producer index was found more than a ring away from ours (a scribbled ring).
  std::uint64_t faults() const noexcept { return faults_; }

 private:
  RingMemory<Entry> memory_;
  std::uint32_t mask_ = 0;
  std::uint32_t consumed_ = 0;  // our consumer index
  std::uint32_t produced_ = 0;  // cached copy of the kernel's producer index
  std::uint64_t faults_ = 0;
};

}  // namespace zc::xdp::detail
