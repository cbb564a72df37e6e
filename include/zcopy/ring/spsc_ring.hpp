// zcopy/ring/spsc_ring.hpp: a bounded lock-free ring for one producer and one consumer, which may
// be two threads or two processes.
//
//   auto ring = zc::SpscRing<Descriptor>::create(1024);        // threads of this process
//   // producer thread                       // consumer thread
//   ring->try_push(d);                       if (Descriptor* d = ring->front()) { use(*d);
//   ring->pop(); }
//
//   // Across processes: lay the ring out in shared memory, attach to it from the peer.
//   auto region = zc::Region::create_shared(zc::SpscRing<Descriptor>::bytes_for(1024));
//   auto producer = zc::SpscRing<Descriptor>::create_in(region->bytes(), 1024);
//   auto consumer = zc::SpscRing<Descriptor>::attach(peer_region.bytes());   // in the peer
//
// Data layout (in the memory the ring lives in, which may be shared):
//
//   +-------------------+-------------------+-------------------+----------------------------+
//   | header: magic,    | head (line 2):    | tail (line 3):    | slots[capacity]            |
//   | version, sizes    | written only by   | written only by   | T, capacity a power of two |
//   | (line 1)          | the producer      | the consumer      |                            |
//   +-------------------+-------------------+-------------------+----------------------------+
//
// head and tail are free-running 64-bit counts (never wrapped; slot = index & mask), each on its
// own cache line so that the producer's stores never invalidate the line the consumer polls and
// vice versa. Each side also keeps a private copy of the other side's index (`cached_tail_`,
// `cached_head_`) in its own object, and reads the shared one only when the cached copy says the
// ring looks full (producer) or empty (consumer): the common case touches no line the other side
// writes.
//
// Synchronization: exactly one thread (in one process) may call the producer functions (try_push,
// try_emplace, try_push_n, reserve/commit) and exactly one the consumer functions (front, pop,
// try_pop, try_pop_n, readable/consume). size() and empty() may be called by either and are
// approximate. The two ordering pairs are spelled out at each SYNC POINT below.
//
// Trust: a process that attaches validates the header and, because a peer can write anything into
// shared memory, every index it reads from the other side: an impossible distance between head and
// tail makes that side report a fault (producer_faulted(), consumer_faulted()) and stop, instead of
// reading out of bounds.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "zcopy/core/error.hpp"

namespace zc {

inline constexpr std::size_t kCacheLine = 64;

// The part of the ring that lives in (possibly shared) memory. Trivially copyable apart from the
// two atomics, which are always lock-free, so processes can share it.
struct alignas(kCacheLine) SpscRingHeader {
  static constexpr std::uint64_t kMagic = 0x7a63'7273'7063'3031;  // "zcrspc01"
  static constexpr std::uint32_t kLayoutVersion = 1;

  std::uint64_t magic;
  std::uint32_t layout_version;
  std::uint32_t element_size;
  std::uint64_t capacity;
  std::uint64_t slots_offset;                           // from the start of the header
  alignas(kCacheLine) std::atomic<std::uint64_t> head;  // next index the producer writes
  alignas(kCacheLine) std::atomic<std::uint64_t> tail;  // next index the consumer reads
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(sizeof(SpscRingHeader) == 3 * kCacheLine);
static_assert(offsetof(SpscRingHeader, head) == kCacheLine);
static_assert(offsetof(SpscRingHeader, tail) == 2 * kCacheLine);

// A private copy of a ring header, each field read once from the (possibly shared) memory. A peer
// can rewrite the shared header at any moment, also between the check of a field and its use;
// checking this copy and building the ring from it alone closes that gap.
struct SpscRingHeaderCopy {
  std::uint64_t magic = 0;
  std::uint32_t layout_version = 0;
  std::uint32_t element_size = 0;
  std::uint64_t capacity = 0;
  std::uint64_t slots_offset = 0;
  std::uint64_t head = 0;
  std::uint64_t tail = 0;
};
static_assert(std::is_trivially_copyable_v<SpscRingHeaderCopy>);

// Reads every field of `shared` exactly once (head and tail with acquire, see the SYNC POINT in
// the ring's constructor).
SpscRingHeaderCopy copy_spsc_ring_header(const SpscRingHeader& shared) noexcept;

// Validates a ring header copied out of memory of `memory_bytes` bytes, for elements of
// `element_size` bytes. Errc::corrupt with the reason when anything is off.
Result<void> validate_spsc_ring_header(const SpscRingHeaderCopy& header, std::size_t memory_bytes,
                                       std::size_t element_size);

template <class T>
class SpscRing {
 public:
  static_assert(std::is_nothrow_destructible_v<T>);

  // Bytes of memory a ring of `capacity` slots needs (header included).
  static constexpr std::size_t bytes_for(std::size_t capacity) {
    return slots_offset() + capacity * sizeof(T);
  }

  // A ring in its own anonymous memory, for threads of this process. Any T. `capacity` must be a
  // power of two.
  static Result<SpscRing> create(std::size_t capacity) {
    if (auto ok = check_capacity(capacity); !ok) return std::unexpected(ok.error());
    const std::size_t bytes = bytes_for(capacity);
    OwnedMemory owned(static_cast<std::byte*>(::operator new(bytes, kAlignment, std::nothrow)));
    if (!owned) {
      return fail(Errc::limit_exceeded, "SpscRing::create",
                  "cannot allocate " + std::to_string(bytes) + " bytes");
    }
    std::fill_n(owned.get(), bytes, std::byte{0});
    SpscRing ring(std::span<std::byte>(owned.get(), bytes), capacity);
    ring.owned_ = std::move(owned);
    return ring;
  }

  // Lays out a new, empty ring at the start of `memory` (typically a shared Region), which must
  // outlive the ring and hold bytes_for(capacity) bytes.
  static Result<SpscRing> create_in(std::span<std::byte> memory,
                                    std::size_t capacity) requires std::is_trivially_copyable_v<T> {
    if (auto ok = check_capacity(capacity); !ok) return std::unexpected(ok.error());
    if (memory.size() < bytes_for(capacity) ||
        reinterpret_cast<std::uintptr_t>(memory.data()) % kCacheLine != 0)
      return fail(Errc::invalid_argument, "SpscRing::create_in",
                  "memory must be 64-byte aligned and hold " + std::to_string(bytes_for(capacity)) +
                      " bytes");
    return SpscRing(memory, capacity);
  }

  // Joins a ring another process laid out in `memory` with create_in. The header is copied once
  // and the copy validated as untrusted input.
  static Result<SpscRing> attach(
      std::span<std::byte> memory) requires std::is_trivially_copyable_v<T> {
    if (auto ok = check_attach_memory(memory); !ok) return std::unexpected(ok.error());
    return attach(memory, copy_spsc_ring_header(*std::launder(
                              reinterpret_cast<const SpscRingHeader*>(memory.data()))));
  }

  // Joins with a header copied earlier by copy_spsc_ring_header(): validates that copy and builds
  // the ring from it alone, whatever the header in `memory` says by now.
  static Result<SpscRing> attach(
      std::span<std::byte> memory,
      const SpscRingHeaderCopy& header) requires std::is_trivially_copyable_v<T> {
    if (auto ok = check_attach_memory(memory); !ok) return std::unexpected(ok.error());
    if (auto ok = validate_spsc_ring_header(header, memory.size(), sizeof(T)); !ok)
      return std::unexpected(ok.error());
    if (header.slots_offset != slots_offset())
      return fail(Errc::corrupt, "ring header",
                  "slots offset " + std::to_string(header.slots_offset) + ", expected " +
                      std::to_string(slots_offset()) + " for this element type");
    return SpscRing(memory, header);
  }

  SpscRing(SpscRing&& other) noexcept
      : header_(std::exchange(other.header_, nullptr)),
        slots_(other.slots_),
        mask_(other.mask_),
        owned_(std::move(other.owned_)),
        producer_(other.producer_),
        consumer_(other.consumer_) {}
  SpscRing& operator=(SpscRing&&) = delete;
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  ~SpscRing() {
    // Only a ring that owns its memory destroys what is still queued; shared rings hold trivially
    // copyable elements that need no destruction.
    if (header_ == nullptr || !owned_) return;
    if constexpr (!std::is_trivially_destructible_v<T>) {
      const std::uint64_t head = header_->head.load(std::memory_order_acquire);
      for (std::uint64_t i = header_->tail.load(std::memory_order_relaxed); i != head; ++i)
        slot(i)->~T();
    }
  }

  std::size_t capacity() const noexcept { return mask_ + 1; }

  // ---- producer -------------------------------------------------------------------------------

  template <class... Args>
  [[nodiscard]] bool try_emplace(Args&&... args) noexcept(
      std::is_nothrow_constructible_v<T, Args&&...>) {
    if (writable(1) == 0) return false;
    ::new (static_cast<void*>(slot(producer_.head))) T(std::forward<Args>(args)...);
    publish(1);
    return true;
  }
  [[nodiscard]] bool try_push(const T& value) { return try_emplace(value); }
  [[nodiscard]] bool try_push(T&& value) { return try_emplace(std::move(value)); }

  // Copies as many of `values` as fit and publishes them with one release. Returns how many.
  std::size_t try_push_n(std::span<const T> values) {
    const std::size_t n = std::min(values.size(), writable(values.size()));
    for (std::size_t i = 0; i < n; ++i)
      ::new (static_cast<void*>(slot(producer_.head + i))) T(values[i]);
    publish(n);
    return n;
  }

  // Zero-copy production: the free slots the producer may construct in place, up to `wanted`,
  // contiguous in memory (so possibly fewer than are free, at the wrap). Follow with commit(n).
  std::span<T> reserve(std::size_t wanted) noexcept {
    const std::size_t free_slots = writable(wanted);
    const std::size_t start = static_cast<std::size_t>(producer_.head & mask_);
    const std::size_t contiguous = std::min(free_slots, capacity() - start);
    return {slot(producer_.head), std::min(wanted, contiguous)};
  }
  // Publishes the first `n` slots of the last reserve(), which the caller has constructed.
  void commit(std::size_t n) noexcept { publish(n); }

  // ---- consumer -------------------------------------------------------------------------------

  // The oldest element, or nullptr when the ring is empty.
  T* front() noexcept { return readable_count(1) == 0 ? nullptr : slot(consumer_.tail); }

  // Removes the element front() returned.
  void pop() noexcept {
    slot(consumer_.tail)->~T();
    release(1);
  }

  [[nodiscard]] bool try_pop(T& out) noexcept(std::is_nothrow_move_assignable_v<T>) {
    T* value = front();
    if (value == nullptr) return false;
    out = std::move(*value);
    pop();
    return true;
  }

  // Moves up to out.size() elements out and frees their slots with one release. Returns how many.
  std::size_t try_pop_n(std::span<T> out) {
    const std::size_t n = std::min(out.size(), readable_count(out.size()));
    for (std::size_t i = 0; i < n; ++i) {
      T* value = slot(consumer_.tail + i);
      out[i] = std::move(*value);
      value->~T();
    }
    release(n);
    return n;
  }

  // Zero-copy consumption: queued elements, read in place, up to `wanted`, contiguous in memory.
  // Follow with consume(n) once done with the first n.
  std::span<T> readable(std::size_t wanted) noexcept {
    const std::size_t queued = readable_count(wanted);
    const std::size_t start = static_cast<std::size_t>(consumer_.tail & mask_);
    const std::size_t contiguous = std::min(queued, capacity() - start);
    return {slot(consumer_.tail), std::min(wanted, contiguous)};
  }
  void consume(std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) slot(consumer_.tail + i)->~T();
    release(n);
  }

  // ---- either side ----------------------------------------------------------------------------

  // Approximate: the other side may be moving.
  std::size_t size() const noexcept {
    const std::uint64_t tail = header_->tail.load(std::memory_order_acquire);
    const std::uint64_t head = header_->head.load(std::memory_order_acquire);
    const std::uint64_t distance = head - tail;
    return distance > capacity() ? 0 : static_cast<std::size_t>(distance);
  }
  bool empty() const noexcept { return size() == 0; }

  // Set once an index read from the other side was impossible (head behind tail, or more than
  // capacity ahead): the peer is corrupt or hostile, and this side refuses to go on. Each may be
  // read only by the thread of its side.
  bool producer_faulted() const noexcept { return producer_.faulted; }
  bool consumer_faulted() const noexcept { return consumer_.faulted; }

 private:
  static constexpr std::size_t slots_offset() {
    constexpr std::size_t align = alignof(T) > kCacheLine ? alignof(T) : kCacheLine;
    return (sizeof(SpscRingHeader) + align - 1) / align * align;
  }

  static Result<void> check_capacity(std::size_t capacity) {
    if (capacity < 2 || !std::has_single_bit(capacity) || capacity > (std::size_t{1} << 40))
      return fail(Errc::invalid_argument, "SpscRing",
                  "capacity " + std::to_string(capacity) + " must be a power of two in [2, 2^40]");
    return {};
  }

  static Result<void> check_attach_memory(std::span<std::byte> memory) {
    if (memory.size() < sizeof(SpscRingHeader) ||
        reinterpret_cast<std::uintptr_t>(memory.data()) % kCacheLine != 0)
      return fail(
          Errc::corrupt, "SpscRing::attach",
          "memory of " + std::to_string(memory.size()) + " bytes cannot hold a ring header");
    return {};
  }

  // Lays out a new, empty ring.
  SpscRing(std::span<std::byte> memory, std::size_t capacity) noexcept : mask_(capacity - 1) {
    header_ = ::new (static_cast<void*>(memory.data())) SpscRingHeader{};
    header_->magic = SpscRingHeader::kMagic;
    header_->layout_version = SpscRingHeader::kLayoutVersion;
    header_->element_size = static_cast<std::uint32_t>(sizeof(T));
    header_->capacity = capacity;
    header_->slots_offset = slots_offset();
    header_->head.store(0, std::memory_order_relaxed);
    // SYNC POINT: the release store of tail publishes the initialised header to a peer that
    // attaches later and reads tail with acquire in copy_spsc_ring_header() (through the
    // cross-process handoff of the fd, which is itself a synchronising system call).
    header_->tail.store(0, std::memory_order_release);
    slots_ = reinterpret_cast<T*>(memory.data() + slots_offset());
  }

  // Joins an existing ring, from a validated copy of its header: nothing is read back from the
  // shared header, so a peer rewriting it now changes nothing. Each side starts from the indices
  // as they were copied, so a process can take over the producer or consumer role of a ring that
  // already carries traffic.
  SpscRing(std::span<std::byte> memory, const SpscRingHeaderCopy& header) noexcept
      : header_(std::launder(reinterpret_cast<SpscRingHeader*>(memory.data()))),
        slots_(reinterpret_cast<T*>(memory.data() + slots_offset())),
        mask_(header.capacity - 1) {
    producer_.head = header.head;
    producer_.cached_tail = header.tail;
    consumer_.tail = header.tail;
    consumer_.cached_head = header.head;
  }

  T* slot(std::uint64_t index) const noexcept { return slots_ + (index & mask_); }

  // How many slots the producer may fill, up to `wanted` (0 when full or faulted). The common case
  // is one subtraction and one compare on our own line; the shared tail is read only when the
  // cached copy says the ring is too full.
  std::size_t writable(std::size_t wanted) noexcept {
    std::uint64_t free_slots = capacity() - (producer_.head - producer_.cached_tail);
    if (free_slots < wanted) [[unlikely]]
      free_slots = refresh_tail();
    return static_cast<std::size_t>(std::min<std::uint64_t>(wanted, free_slots));
  }

  // Rereads the consumer's tail; returns the free slots. A fault parks cached_tail a full ring
  // behind head, so the fast path in writable() sees no room and every call lands here.
  std::uint64_t refresh_tail() noexcept {
    if (producer_.faulted) return 0;
    // SYNC POINT (pairs with the release store of tail in release()): once we see the consumer's
    // tail, its reads of (and destructor calls on) the slots before it have happened, so we may
    // overwrite them.
    const std::uint64_t tail = header_->tail.load(std::memory_order_acquire);
    const std::uint64_t used = producer_.head - tail;
    if (used > capacity()) {
      producer_.faulted = true;
      producer_.cached_tail = producer_.head - capacity();
      return 0;
    }
    producer_.cached_tail = tail;
    return capacity() - used;
  }

  void publish(std::size_t n) noexcept {
    if (n == 0) return;
    producer_.head += n;
    // SYNC POINT (pairs with the acquire load of head in readable_count()): the constructions of
    // the n slots happen before the consumer can see the new head, so it never reads a slot the
    // producer is still writing.
    header_->head.store(producer_.head, std::memory_order_release);
  }

  // How many elements the consumer may read, up to `wanted` (0 when empty or faulted). As in
  // writable(), the shared head is read only when the cached copy says too few are queued.
  std::size_t readable_count(std::size_t wanted) noexcept {
    std::uint64_t queued = consumer_.cached_head - consumer_.tail;
    if (queued < wanted) [[unlikely]]
      queued = refresh_head();
    return static_cast<std::size_t>(std::min<std::uint64_t>(wanted, queued));
  }

  // Rereads the producer's head; returns how many are queued. A fault parks cached_head at tail,
  // so the fast path in readable_count() sees nothing queued and every call lands here.
  std::uint64_t refresh_head() noexcept {
    if (consumer_.faulted) return 0;
    // SYNC POINT (pairs with the release store of head in publish()): every slot below the head
    // we see was fully constructed before the producer published it.
    const std::uint64_t head = header_->head.load(std::memory_order_acquire);
    const std::uint64_t queued = head - consumer_.tail;
    if (queued > capacity()) {
      consumer_.faulted = true;
      consumer_.cached_head = consumer_.tail;
      return 0;
    }
    consumer_.cached_head = head;
    return queued;
  }

  void release(std::size_t n) noexcept {
    if (n == 0) return;
    consumer_.tail += n;
    // SYNC POINT (pairs with the acquire load of tail in writable()): our reads of the n slots
    // happen before the producer may reuse them.
    header_->tail.store(consumer_.tail, std::memory_order_release);
  }

  SpscRingHeader* header_ = nullptr;
  T* slots_ = nullptr;
  std::uint64_t mask_;
  // The memory of a ring made by create(): plain heap memory, aligned as the header asks.
  static constexpr std::align_val_t kAlignment{alignof(SpscRingHeader)};
  struct FreeAligned {
    void operator()(std::byte* memory) const noexcept { ::operator delete(memory, kAlignment); }
  };
  using OwnedMemory = std::unique_ptr<std::byte, FreeAligned>;
  OwnedMemory owned_;  // set when the ring owns its memory

  // Private to each side and 128 bytes apart, so that in-process use does not bounce a line
  // between the producer and consumer threads: not through false sharing, and not through the
  // adjacent-line prefetcher, which fetches cache lines in aligned pairs.
  static constexpr std::size_t kPrivateAlign = 2 * kCacheLine;
  struct alignas(kPrivateAlign) ProducerState {
    std::uint64_t head = 0;         // our next index; mirrors header_->head
    std::uint64_t cached_tail = 0;  // the consumer's tail as we last saw it
    bool faulted = false;
  };
  struct alignas(kPrivateAlign) ConsumerState {
    std::uint64_t tail = 0;         // our next index; mirrors header_->tail
    std::uint64_t cached_head = 0;  // the producer's head as we last saw it
    bool faulted = false;
  };
  ProducerState producer_;
  ConsumerState consumer_;
};

}  // namespace zc
