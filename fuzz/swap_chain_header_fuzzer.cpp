// Feeds arbitrary bytes to validate_swap_chain_header() as if they were a peer's swap chain
// region. It must never crash, and whatever it accepts must describe slots inside those bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "zcopy/frame/swap_chain_layout.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  const zc::Result<zc::SwapChainGeometry> geometry = zc::validate_swap_chain_header(bytes);
  if (!geometry) {
    if (geometry.error().code() != zc::Errc::corrupt || geometry.error().message().empty()) {
      std::abort();
    }
    return 0;
  }
  const zc::SwapChainGeometry& g = *geometry;
  const bool fits = g.slot_count >= zc::kMinSwapSlots && g.slot_count <= zc::kMaxSwapSlots &&
                    g.slot_bytes == std::uint64_t{g.row_bytes} * g.height &&
                    g.slot_stride >= g.slot_bytes && g.slots_offset >= zc::kSwapChainControlBytes &&
                    g.offset_of(g.slot_count - 1) + g.slot_bytes <= g.total_bytes &&
                    g.total_bytes <= size;
  if (!fits) std::abort();
  return 0;
}
