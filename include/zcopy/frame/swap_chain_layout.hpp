// zcopy/frame/swap_chain_layout.hpp: where a swap chain's header, control words and slots sit in
// its shared region, and the check a process runs before trusting a peer's region.
//
//   +--------------------------------------------+--------------+--------------+----
//   | page 0: header (magic, version, geometry), | slot 0       | slot 1       | ...
//   | the two timelines, the front index,        | row_bytes *  | page-aligned |
//   | counters, one control line per slot        | height bytes | stride       |
//   +--------------------------------------------+--------------+--------------+----
//
// Everything is named by offset or index, never by pointer, so both processes read the same
// layout at whatever address their mapping sits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "zcopy/core/error.hpp"

namespace zc {

// How the consumer picks the next frame at each tick.
enum class PresentMode : std::uint8_t {
  // The newest presented frame; older ones queued behind it are dropped. The producer never
  // waits for the consumer: with no free slot it takes back its oldest queued frame (dropped).
  mailbox = 0,
  // The oldest presented frame, so every frame is shown in order; the producer waits (with a
  // timeout) when all slots are queued or shown.
  fifo = 1,
};

inline constexpr std::uint32_t kMinSwapSlots = 2;
inline constexpr std::uint32_t kMaxSwapSlots = 4;
inline constexpr std::uint32_t kMaxFrameSide = 16384;
inline constexpr std::uint64_t kSwapChainControlBytes = 4096;

// The geometry validate_swap_chain_header() vouches for.
struct SwapChainGeometry {
  std::uint32_t slot_count = 0;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint32_t bytes_per_pixel = 0;
  std::uint32_t row_bytes = 0;  // width * bytes_per_pixel
  PresentMode mode = PresentMode::mailbox;
  std::uint64_t slot_bytes = 0;    // row_bytes * height
  std::uint64_t slot_stride = 0;   // slot_bytes rounded up to a page
  std::uint64_t slots_offset = 0;  // slot 0
  std::uint64_t total_bytes = 0;   // end of the last slot

  std::uint64_t offset_of(std::uint32_t slot) const noexcept {
    return slots_offset + std::uint64_t{slot} * slot_stride;
  }
};

// The geometry a swap chain of these dimensions would have, or Errc::invalid_argument naming
// the bad value (slot count outside [2, 4], a side outside [1, 16384], bytes per pixel outside
// [1, 4]).
Result<SwapChainGeometry> plan_swap_chain(std::uint32_t width, std::uint32_t height,
                                          std::uint32_t bytes_per_pixel, std::uint32_t slot_count,
                                          PresentMode mode);

// Checks the header and control words at the start of `region` (magic, layout version,
// geometry, every offset against the layout the sizes imply and against region.size(), every
// slot's state word and the front index) without trusting any field. Errc::corrupt with one
// precise line otherwise, e.g. "swap chain header: slot count 9 outside [2, 4]".
Result<SwapChainGeometry> validate_swap_chain_header(std::span<const std::byte> region);

}  // namespace zc
