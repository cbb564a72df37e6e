// zcopy/channel/channel_layout.hpp: the shared memory one channel subscriber and its publisher
// both map, and the validator a subscriber runs on it before trusting anything in it.
//
// Each subscriber gets its own control region (a memfd), so a corrupt or hostile subscriber can
// only damage its own queue, never another subscriber's:
//
//   +----------------+----------------------+--------------------------+----------------------+
//   | ChannelHeader  | ChannelControl       | DescriptorSlot           | SpscRing<uint32_t>   |
//   | (lines 0-1):   | (5 lines of atomics, | [queue_depth]:           | release ring,        |
//   | geometry,      | see its comment)     | publisher -> subscriber  | subscriber ->        |
//   | written once   |                      | (chunk, length, sequence)| publisher (chunks)   |
//   +----------------+----------------------+--------------------------+----------------------+
//
// The descriptor queue is the channel's own ring rather than an SpscRing because drop_oldest
// needs the publisher to take back the oldest unread entry: the consumer index (`tail`) is
// advanced by compare-and-swap by either side, and whoever wins owns that entry's chunk
// reference. The payload chunks themselves live in the publisher's BufferPool, which subscribers
// map read-only.
//
// Everything here is written once by the publisher at admission (the header) or is an atomic
// index or flag. The publisher never reads the header back and checks every index it reads
// against its private copy of what it sent; the subscriber validates the header as untrusted
// input with validate_channel_header().
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "zcopy/core/error.hpp"
#include "zcopy/ring/spsc_ring.hpp"

namespace zc {

// Written once by the publisher when it admits the subscriber; read once by the subscriber.
struct alignas(kCacheLine) ChannelHeader {
  static constexpr std::uint64_t kMagic = 0x7a63'6368'616e'3031;  // "zcchan01"
  static constexpr std::uint32_t kLayoutVersion = 4;

  std::uint64_t magic;
  std::uint32_t layout_version;
  std::uint32_t header_size;  // sizeof(ChannelHeader)
  std::uint32_t chunk_size;
  std::uint32_t chunk_count;
  std::uint32_t queue_depth;       // descriptor slots, a power of two
  std::uint32_t release_capacity;  // release ring slots, a power of two >= chunk_count
  std::uint64_t control_offset;
  std::uint64_t descriptor_offset;
  std::uint64_t release_offset;
  std::uint64_t total_bytes;
  std::uint32_t backpressure;  // 0 block, 1 drop_oldest
  std::uint32_t subscriber_id;
  // Which side leaves its full fence to the other's membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)
  // (see "Sleeping" in publisher.cpp). kPublisherFenced: the publisher publishes without one, so
  // a subscriber forces one on it before its last look at head. kSubscriberFenced: the
  // subscriber looks for a waiting publisher with a plain load, so the publisher forces one on
  // it before its last look. Neither: read-modify-writes and seq_cst as without membarrier.
  std::uint32_t remote_fences;
};
static_assert(std::is_trivially_copyable_v<ChannelHeader>);
static_assert(sizeof(ChannelHeader) == 2 * kCacheLine);

// The live state of one subscriber's queue. Each line is written mostly by one side, so the
// publisher's stores do not bounce the line the subscriber polls (false sharing).
struct alignas(kCacheLine) ChannelControl {
  // Written by the publisher only.
  alignas(kCacheLine) std::atomic<std::uint64_t> head;  // next descriptor position to fill
  std::atomic<std::uint64_t> dropped;                   // entries taken back by drop_oldest
  // Advanced by compare-and-swap by the subscriber (a receive) or the publisher (a drop).
  alignas(kCacheLine) std::atomic<std::uint64_t> tail;
  // Set by the subscriber before it sleeps; cleared by whoever wakes it.
  alignas(kCacheLine) std::atomic<std::uint32_t> subscriber_sleeping;
  // Set by the publisher before it sleeps waiting for space or chunks; cleared by the waker.
  alignas(kCacheLine) std::atomic<std::uint32_t> publisher_waiting;
  // What the waiting publisher needs from this subscriber before it is worth waking: tail at
  // least wake_tail, or at least wake_returned chunks given back in all (UINT64_MAX: not this
  // one). Written before publisher_waiting is set; a subscriber with nothing queued wakes it
  // regardless (see "Sleeping" in publisher.cpp).
  std::atomic<std::uint64_t> wake_tail;
  std::atomic<std::uint64_t> wake_returned;
  // 1 once the publisher closed. Written once, so the line stays in both sides' caches: a
  // subscriber polling an empty queue reads its next slot and this, not head, which the
  // publisher writes at every publish (one line transfer fewer per message in a busy round trip).
  alignas(kCacheLine) std::atomic<std::uint32_t> closed;
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(ChannelControl) == 5 * kCacheLine);

// One queued message. The words are atomics because, under drop_oldest, the subscriber may read
// a slot while the publisher takes it back and refills it; the subscriber keeps what it read only
// when its compare-and-swap of tail proves the slot was still its to take.
//
// `filled` is the slot's queue position plus one, stored last (with release) when the slot is
// filled, so a polling subscriber learns from this one line that its next message is there,
// without first reading head from the control block (one cache miss fewer per message).
struct alignas(32) DescriptorSlot {
  std::atomic<std::uint64_t> filled;            // queue position + 1 of the current contents
  std::atomic<std::uint64_t> sequence;          // the channel-wide message number
  std::atomic<std::uint64_t> chunk_and_length;  // chunk index << 32 | length
  std::uint64_t reserved;
};
static_assert(sizeof(DescriptorSlot) == 32);

// ChannelHeader::remote_fences bits.
inline constexpr std::uint32_t kPublisherFenced = 1;
inline constexpr std::uint32_t kSubscriberFenced = 2;

inline constexpr std::uint64_t pack_descriptor(std::uint32_t chunk, std::uint32_t length) {
  return std::uint64_t{chunk} << 32 | length;
}

// What validate_channel_header() vouches for: every offset lies inside the region.
struct ChannelGeometry {
  std::uint32_t chunk_size = 0;
  std::uint32_t chunk_count = 0;
  std::uint32_t queue_depth = 0;
  std::uint32_t release_capacity = 0;
  std::uint64_t control_offset = 0;
  std::uint64_t descriptor_offset = 0;
  std::uint64_t release_offset = 0;
  std::uint64_t total_bytes = 0;
  std::uint32_t backpressure = 0;
  std::uint32_t subscriber_id = 0;
  std::uint32_t remote_fences = 0;
};

// The layout for these sizes (what the publisher writes and the validator expects).
ChannelGeometry channel_geometry(std::uint32_t chunk_size, std::uint32_t chunk_count,
                                 std::uint32_t queue_depth) noexcept;

// Checks the header at the start of `region` without trusting any field. Errc::corrupt with one
// precise line otherwise, e.g. "channel header: queue depth 48 is not a power of two".
Result<ChannelGeometry> validate_channel_header(std::span<const std::byte> region);

// Lays out a header, control block, empty descriptor queue and empty release ring in `region`
// (64-byte aligned, at least geometry.total_bytes bytes).
void initialise_channel_region(std::span<std::byte> region, const ChannelGeometry& geometry);

}  // namespace zc
