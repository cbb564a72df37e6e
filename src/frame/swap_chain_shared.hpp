// The words a swap chain keeps in page 0 of its shared region, and their encodings.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "zcopy/frame/swap_chain_layout.hpp"

namespace zc::detail {

inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::uint64_t kSwapChainMagic = 0x7a63'6672'616d'6531;  // "zcframe1"
inline constexpr std::uint32_t kSwapChainVersion = 1;
inline constexpr std::uint32_t kNoFront = 0xffff'ffff;

// A slot's life: free -> writing (producer) -> queued -> reading (consumer, the front) -> free.
// In MAILBOX the producer may also take a queued slot back (queued -> writing) and the consumer
// may drop one (queued -> free).
enum class SlotState : std::uint32_t { free = 0, writing = 1, queued = 2, reading = 3 };
inline constexpr std::uint32_t kStateBits = 8;
inline constexpr std::uint32_t kStateMask = (1U << kStateBits) - 1;

// One 64-bit word per slot: the state in bits 0-7, the generation in bits 8-31 and, in bits
// 32-63, a tag from the present sequence. Reclaiming a dead side's slot bumps the generation, so
// the dead side's later CAS (expecting the old word) fails; the tag changes at each present, so a
// slot taken back and presented again never looks like the queued slot seen a moment before.
using SlotWord = std::uint64_t;
constexpr SlotWord slot_word(SlotState state, std::uint32_t generation,
                             std::uint32_t tag) noexcept {
  return (SlotWord{tag} << 32) | (SlotWord{generation & 0xff'ffffU} << kStateBits) |
         static_cast<SlotWord>(state);
}
constexpr SlotState state_of(SlotWord word) noexcept {
  return static_cast<SlotState>(word & kStateMask);
}
constexpr std::uint32_t generation_of(SlotWord word) noexcept {
  return static_cast<std::uint32_t>(word >> kStateBits) & 0xff'ffffU;
}
constexpr std::uint32_t tag_of(SlotWord word) noexcept {
  return static_cast<std::uint32_t>(word >> 32);
}
// The same word in another state.
constexpr SlotWord with_state(SlotWord word, SlotState state) noexcept {
  return (word & ~SlotWord{kStateMask}) | static_cast<SlotWord>(state);
}

// A timeline point in the manner of a DRM syncobj timeline: a 64-bit value that only grows, a
// 32-bit futex word bumped after each signal, a count of sleepers (so that signal skips the
// futex_wake syscall when nobody sleeps) and whether a side asked for eventfd wake-ups.
struct alignas(kCacheLine) SharedTimeline {
  std::atomic<std::uint64_t> point{0};
  std::atomic<std::uint32_t> epoch{0};
  std::atomic<std::uint32_t> sleepers{0};
  std::atomic<std::uint32_t> polled{0};
};

struct alignas(kCacheLine) SharedSlot {
  std::atomic<SlotWord> word{0};
  // Written by the producer while it holds the slot (writing), published by the CAS to queued.
  std::atomic<std::uint64_t> frame_id{0};
  std::atomic<std::uint64_t> sequence{0};    // present order, for FIFO and for "newest"
  std::atomic<std::uint64_t> present_ns{0};  // CLOCK_MONOTONIC at present
};

struct SwapChainHeader {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t slot_count;
  std::uint32_t width;
  std::uint32_t height;
  std::uint32_t bytes_per_pixel;
  std::uint32_t row_bytes;
  std::uint32_t mode;
  std::uint32_t reserved;
  std::uint64_t slot_bytes;
  std::uint64_t slot_stride;
  std::uint64_t slots_offset;
  std::uint64_t total_bytes;
};

// Statistics only: every access is relaxed, nothing is ordered by them, and a snapshot is exact
// only when both sides are quiet.
struct alignas(kCacheLine) SharedCounters {
  std::atomic<std::uint64_t> presented{0};
  std::atomic<std::uint64_t> shown{0};
  std::atomic<std::uint64_t> dropped{0};
  std::atomic<std::uint64_t> repeats{0};
  std::atomic<std::uint64_t> stale_presents{0};
  std::atomic<std::uint64_t> reclaimed{0};
  std::atomic<std::uint64_t> last_shown_id{0};
  std::atomic<std::uint64_t> last_latency_ns{0};
};

struct SwapChainShared {
  alignas(kCacheLine) SwapChainHeader header;
  // Signalled by the producer at each present: the consumer waits on it.
  SharedTimeline presented;
  // Signalled by the consumer each time it frees a slot: the producer waits on it.
  SharedTimeline released;
  // For inspection (validation on attach): relaxed; the consumer shows its own copy.
  alignas(kCacheLine) std::atomic<std::uint32_t> front{kNoFront};
  // Only the producer takes from it, so relaxed; the value is published with the slot's fields
  // by the present CAS.
  std::atomic<std::uint64_t> next_sequence{1};
  SharedCounters counters;
  SharedSlot slots[kMaxSwapSlots];
};

static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::is_trivially_copyable_v<SwapChainHeader>);
static_assert(sizeof(SwapChainHeader) == 72);
static_assert(sizeof(SharedSlot) == kCacheLine && alignof(SwapChainShared) == kCacheLine);
static_assert(sizeof(SwapChainShared) <= kSwapChainControlBytes);

}  // namespace zc::detail
