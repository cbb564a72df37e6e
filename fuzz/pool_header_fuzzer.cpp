// Feeds arbitrary bytes to validate_pool_header() as if they were a peer's pool region. It must
// never crash, and whatever it accepts must describe a layout that fits inside those bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "zcopy/mem/buffer_pool.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  const zc::Result<zc::PoolGeometry> geometry = zc::validate_pool_header(bytes);
  if (!geometry) {
    if (geometry.error().code() != zc::Errc::corrupt || geometry.error().message().empty()) {
      std::abort();
    }
    return 0;
  }
  const zc::PoolGeometry& g = *geometry;
  const std::uint64_t arrays = std::uint64_t{g.chunk_count} * sizeof(std::uint32_t);
  const bool fits =
      g.chunk_count > 0 && g.chunk_size > 0 && g.chunk_stride >= g.chunk_size &&
      g.chunk_align >= 64 && g.chunk_offset % g.chunk_align == 0 &&
      g.next_offset + arrays <= g.state_offset && g.state_offset + arrays <= g.chunk_offset &&
      g.offset_of(g.chunk_count - 1) + g.chunk_size <= g.total_bytes && g.total_bytes <= size;
  if (!fits) std::abort();
  return 0;
}
