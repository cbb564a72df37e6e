// mem/pool_header.hpp: the byte layout of a BufferPool inside its shared region.
//
//   offset 0              PoolHeader     immutable after creation: magic, version, geometry
//   control_offset        PoolControl    the hot atomics, one cache line each for head and counters
//   next_offset           uint32 x N     free-list links (atomic): next free chunk, or kNoChunk
//   state_offset          uint32 x N     chunk states (atomic): kChunkFree or kChunkLoaned
//   chunk_offset          N chunks       chunk i at chunk_offset + i * chunk_stride
//   total_bytes           end
//
// Every position is an offset from the start of the region, never a pointer: each process maps
// the region at its own address. The layout is a pure function of (chunk_size, chunk_count), so a
// header that does not match compute_pool_geometry() for its own sizes is corrupt.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "zcopy/core/error.hpp"
#include "zcopy/mem/buffer_pool.hpp"

namespace zc::pool_layout {

inline constexpr std::size_t kCacheLine = 64;
inline constexpr std::uint64_t kMagic = 0x314c4f4f5043435aULL;  // "ZCCPOOL1", little-endian
inline constexpr std::uint32_t kVersion = 1;
// The x86-64 and arm64 base page: fixed here, not read from sysconf, because every process that
// maps the pool must compute the same layout.
inline constexpr std::uint32_t kPageAlign = 4096;
inline constexpr std::uint32_t kMaxChunkSize = 1U << 30;
inline constexpr std::uint32_t kNoChunk = 0xffffffffU;
inline constexpr std::uint32_t kMaxChunkCount = kNoChunk - 1;
// Distinctive values so that a chunk state that is neither is recognised as corruption.
inline constexpr std::uint32_t kChunkFree = 0x45455246U;    // "FREE"
inline constexpr std::uint32_t kChunkLoaned = 0x4e414f4cU;  // "LOAN"

// Immutable once the creator has written it; every process validates it before use.
struct PoolHeader {
  std::uint64_t magic;
  std::uint32_t layout_version;
  std::uint32_t header_size;  // sizeof(PoolHeader)
  std::uint32_t chunk_size;
  std::uint32_t chunk_count;
  std::uint32_t chunk_align;
  std::uint32_t chunk_stride;
  std::uint64_t control_offset;
  std::uint64_t next_offset;
  std::uint64_t state_offset;
  std::uint64_t chunk_offset;
  std::uint64_t total_bytes;
  std::uint8_t reserved[56];  // zero; room for fields of later layout versions
};
static_assert(std::is_trivially_copyable_v<PoolHeader>);
static_assert(std::is_standard_layout_v<PoolHeader>);
static_assert(sizeof(PoolHeader) == 2 * kCacheLine);

// The shared atomics. Not trivially copyable (atomics never are) but standard-layout and made only
// of always-lock-free atomics, which are address-free and so work between processes.
struct PoolControl {
  // Treiber-stack head: (ABA tag << 32) | index of the first free chunk (kNoChunk when empty).
  // Alone on its line: every loan and return CASes it.
  alignas(kCacheLine) std::atomic<std::uint64_t> free_head;
  // Statistics, updated with relaxed operations next to each loan and return; on their own line
  // so that readers of stats() do not steal the head's line from loaners.
  alignas(kCacheLine) std::atomic<std::uint32_t> loaned;
  std::atomic<std::uint32_t> high_water;
  std::atomic<std::uint64_t> rejected_returns;
};
static_assert(std::is_standard_layout_v<PoolControl>);
static_assert(sizeof(PoolControl) == 2 * kCacheLine);
static_assert(alignof(PoolControl) == kCacheLine);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));

constexpr std::uint64_t pack_head(std::uint32_t tag, std::uint32_t index) noexcept {
  return (std::uint64_t{tag} << 32) | index;
}
constexpr std::uint32_t head_index(std::uint64_t head) noexcept {
  return static_cast<std::uint32_t>(head);
}
constexpr std::uint32_t head_tag(std::uint64_t head) noexcept {
  return static_cast<std::uint32_t>(head >> 32);
}

// Chunks start on a cache line, or on a page when they are a page or more, so that they can be
// registered with io_uring or used as AF_XDP frames.
constexpr std::uint32_t chunk_alignment(std::uint32_t chunk_size) noexcept {
  return chunk_size >= kPageAlign ? kPageAlign : static_cast<std::uint32_t>(kCacheLine);
}

// The layout for `chunk_count` chunks of `chunk_size` bytes. Errc::invalid_argument when either is
// zero or beyond the limits above.
Result<PoolGeometry> compute_pool_geometry(std::uint64_t chunk_size, std::uint64_t chunk_count);

// The header describing `geometry`.
PoolHeader make_header(const PoolGeometry& geometry) noexcept;

}  // namespace zc::pool_layout
