// Feeds arbitrary bytes to validate_channel_header() as if they were a subscriber's control
// region. It must never crash, and whatever it accepts must describe a layout that fits inside
// those bytes with every part in order.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "zcopy/channel/channel_layout.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  const zc::Result<zc::ChannelGeometry> geometry = zc::validate_channel_header(bytes);
  if (!geometry) {
    if (geometry.error().code() != zc::Errc::corrupt || geometry.error().message().empty()) {
      std::abort();
    }
    return 0;
  }
  const zc::ChannelGeometry& g = *geometry;
  const bool fits =
      g.chunk_size > 0 && g.chunk_count > 0 && g.queue_depth >= 2 &&
      (g.queue_depth & (g.queue_depth - 1)) == 0 && g.release_capacity >= g.chunk_count &&
      g.control_offset >= sizeof(zc::ChannelHeader) &&
      g.descriptor_offset >= g.control_offset + sizeof(zc::ChannelControl) &&
      g.release_offset >=
          g.descriptor_offset + std::uint64_t{g.queue_depth} * sizeof(zc::DescriptorSlot) &&
      g.release_offset % zc::kCacheLine == 0 &&
      g.total_bytes >=
          g.release_offset + zc::SpscRing<std::uint32_t>::bytes_for(g.release_capacity) &&
      g.total_bytes <= size && g.backpressure <= 1;
  if (!fits) std::abort();
  return 0;
}
