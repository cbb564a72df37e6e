// The swap chain's geometry: planned from dimensions, or checked field by field in a peer's region.
#include "zcopy/frame/swap_chain_layout.hpp"

#include <cstddef>
#include <cstring>
#include <string>

#include "frame/swap_chain_shared.hpp"

namespace zc {
namespace {

constexpr std::uint64_t kPage = 4096;

std::uint64_t round_up_page(std::uint64_t n) {
  return (n + kPage - 1) / kPage * kPage;
}

std::unexpected<Error> corrupt(const std::string& detail) {
  return fail(Errc::corrupt, "swap chain header", detail);
}

std::string range_text(std::uint64_t low, std::uint64_t high) {
  return "[" + std::to_string(low) + ", " + std::to_string(high) + "]";
}

// The first problem with these dimensions, or an empty string.
std::string check_dimensions(std::uint32_t width, std::uint32_t height,
                             std::uint32_t bytes_per_pixel, std::uint32_t slot_count,
                             std::uint32_t mode) {
  if (slot_count < kMinSwapSlots || slot_count > kMaxSwapSlots) {
    return "slot count " + std::to_string(slot_count) + " outside " +
           range_text(kMinSwapSlots, kMaxSwapSlots);
  }
  if (width < 1 || width > kMaxFrameSide) {
    return "width " + std::to_string(width) + " outside " + range_text(1, kMaxFrameSide);
  }
  if (height < 1 || height > kMaxFrameSide) {
    return "height " + std::to_string(height) + " outside " + range_text(1, kMaxFrameSide);
  }
  if (bytes_per_pixel < 1 || bytes_per_pixel > 4) {
    return "bytes per pixel " + std::to_string(bytes_per_pixel) + " outside [1, 4]";
  }
  if (mode > static_cast<std::uint32_t>(PresentMode::fifo)) {
    return "present mode " + std::to_string(mode) + " is neither mailbox (0) nor fifo (1)";
  }
  return {};
}

SwapChainGeometry geometry_for(std::uint32_t width, std::uint32_t height,
                               std::uint32_t bytes_per_pixel, std::uint32_t slot_count,
                               PresentMode mode) {
  SwapChainGeometry g;
  g.slot_count = slot_count;
  g.width = width;
  g.height = height;
  g.bytes_per_pixel = bytes_per_pixel;
  g.row_bytes = width * bytes_per_pixel;  // <= 65536: no overflow
  g.mode = mode;
  g.slot_bytes = std::uint64_t{g.row_bytes} * height;
  g.slot_stride = round_up_page(g.slot_bytes);
  g.slots_offset = kSwapChainControlBytes;
  g.total_bytes = g.slots_offset + g.slot_stride * slot_count;
  return g;
}

template <class T>
T read_at(std::span<const std::byte> region, std::size_t offset) {
  T value;
  std::memcpy(&value, region.data() + offset, sizeof value);
  return value;
}

}  // namespace

Result<SwapChainGeometry> plan_swap_chain(std::uint32_t width, std::uint32_t height,
                                          std::uint32_t bytes_per_pixel, std::uint32_t slot_count,
                                          PresentMode mode) {
  const std::string problem = check_dimensions(width, height, bytes_per_pixel, slot_count,
                                               static_cast<std::uint32_t>(mode));
  if (!problem.empty()) return fail(Errc::invalid_argument, "swap chain", problem);
  return geometry_for(width, height, bytes_per_pixel, slot_count, mode);
}

Result<SwapChainGeometry> validate_swap_chain_header(std::span<const std::byte> region) {
  using detail::SwapChainHeader;
  using detail::SwapChainShared;
  if (region.size() < kSwapChainControlBytes) {
    return corrupt("region of " + std::to_string(region.size()) +
                   " bytes is smaller than the control page (" +
                   std::to_string(kSwapChainControlBytes) + ")");
  }
  const auto h = read_at<SwapChainHeader>(region, offsetof(SwapChainShared, header));
  if (h.magic != detail::kSwapChainMagic) return corrupt("bad magic (not a swap chain)");
  if (h.version != detail::kSwapChainVersion) {
    return corrupt("layout version " + std::to_string(h.version) + ", expected " +
                   std::to_string(detail::kSwapChainVersion));
  }
  const std::string problem =
      check_dimensions(h.width, h.height, h.bytes_per_pixel, h.slot_count, h.mode);
  if (!problem.empty()) return corrupt(problem);
  const SwapChainGeometry g = geometry_for(h.width, h.height, h.bytes_per_pixel, h.slot_count,
                                           static_cast<PresentMode>(h.mode));
  if (h.row_bytes != g.row_bytes) {
    return corrupt("row bytes " + std::to_string(h.row_bytes) + ", expected " +
                   std::to_string(g.row_bytes));
  }
  if (h.slot_bytes != g.slot_bytes || h.slot_stride != g.slot_stride) {
    return corrupt("slot size " + std::to_string(h.slot_bytes) + " stride " +
                   std::to_string(h.slot_stride) + ", expected " + std::to_string(g.slot_bytes) +
                   " stride " + std::to_string(g.slot_stride));
  }
  if (h.slots_offset != g.slots_offset || h.total_bytes != g.total_bytes) {
    return corrupt("slot area [" + std::to_string(h.slots_offset) + ", " +
                   std::to_string(h.total_bytes) + "), expected [" +
                   std::to_string(g.slots_offset) + ", " + std::to_string(g.total_bytes) + ")");
  }
  if (g.total_bytes > region.size()) {
    return corrupt("slot area [" + std::to_string(g.slots_offset) + ", " +
                   std::to_string(g.total_bytes) + ") exceeds region size " +
                   std::to_string(region.size()));
  }
  for (std::uint32_t i = 0; i < g.slot_count; ++i) {
    const std::size_t at = offsetof(SwapChainShared, slots) + i * sizeof(detail::SharedSlot);
    const auto word = read_at<detail::SlotWord>(region, at);
    if ((word & detail::kStateMask) > static_cast<std::uint32_t>(detail::SlotState::reading)) {
      return corrupt("slot " + std::to_string(i) + " state " +
                     std::to_string(word & detail::kStateMask) + " is not a slot state");
    }
  }
  const auto front = read_at<std::uint32_t>(region, offsetof(SwapChainShared, front));
  if (front != detail::kNoFront && front >= g.slot_count) {
    return corrupt("front index " + std::to_string(front) + " outside [0, " +
                   std::to_string(g.slot_count - 1) + "]");
  }
  return g;
}

}  // namespace zc
