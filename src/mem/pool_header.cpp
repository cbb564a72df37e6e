// Computing a pool's layout and validating a header read from shared memory.
#include "mem/pool_header.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

namespace zc {
namespace pool_layout {
namespace {

constexpr std::uint64_t round_up(std::uint64_t value, std::uint64_t alignment) noexcept {
  return (value + alignment - 1) / alignment * alignment;
}

std::string hex(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%016" PRIx64, value);
  return text;
}

}  // namespace

Result<PoolGeometry> compute_pool_geometry(std::uint64_t chunk_size, std::uint64_t chunk_count) {
  const std::string op = "pool geometry";
  if (chunk_size == 0 || chunk_size > kMaxChunkSize) {
    return fail(Errc::invalid_argument, op,
                "chunk size " + std::to_string(chunk_size) + " outside [1, " +
                    std::to_string(kMaxChunkSize) + "]");
  }
  if (chunk_count == 0 || chunk_count > kMaxChunkCount) {
    return fail(Errc::invalid_argument, op,
                "chunk count " + std::to_string(chunk_count) + " outside [1, " +
                    std::to_string(kMaxChunkCount) + "]");
  }
  // With both bounded as above, no sum or product below can exceed 2^63.
  PoolGeometry g;
  g.chunk_size = static_cast<std::uint32_t>(chunk_size);
  g.chunk_count = static_cast<std::uint32_t>(chunk_count);
  g.chunk_align = chunk_alignment(g.chunk_size);
  g.chunk_stride = static_cast<std::uint32_t>(round_up(chunk_size, g.chunk_align));
  g.control_offset = sizeof(PoolHeader);
  g.next_offset = g.control_offset + sizeof(PoolControl);
  const std::uint64_t array_bytes = chunk_count * sizeof(std::uint32_t);
  g.state_offset = round_up(g.next_offset + array_bytes, kCacheLine);
  g.chunk_offset = round_up(g.state_offset + array_bytes, g.chunk_align);
  g.total_bytes = g.chunk_offset + chunk_count * g.chunk_stride;
  return g;
}

PoolHeader make_header(const PoolGeometry& geometry) noexcept {
  PoolHeader header{};
  header.magic = kMagic;
  header.layout_version = kVersion;
  header.header_size = sizeof(PoolHeader);
  header.chunk_size = geometry.chunk_size;
  header.chunk_count = geometry.chunk_count;
  header.chunk_align = geometry.chunk_align;
  header.chunk_stride = geometry.chunk_stride;
  header.control_offset = geometry.control_offset;
  header.next_offset = geometry.next_offset;
  header.state_offset = geometry.state_offset;
  header.chunk_offset = geometry.chunk_offset;
  header.total_bytes = geometry.total_bytes;
  return header;
}

}  // namespace pool_layout

Result<PoolGeometry> validate_pool_header(std::span<const std::byte> region) {
  using namespace pool_layout;
  const std::string op = "pool header";
  if (region.size() < sizeof(PoolHeader)) {
    return fail(Errc::corrupt, op,
                "region of " + std::to_string(region.size()) + " bytes is smaller than the " +
                    std::to_string(sizeof(PoolHeader)) + "-byte header");
  }
  // A copy: the fields cannot change under us between check and use, and the bytes need no
  // particular alignment.
  PoolHeader h;
  std::memcpy(&h, region.data(), sizeof h);

  if (h.magic != kMagic) {
    return fail(
        Errc::corrupt, op,
        "bad magic " + hex(h.magic) + " (expected " + hex(kMagic) + "): not a zcopy buffer pool");
  }
  if (h.layout_version != kVersion) {
    return fail(Errc::corrupt, op,
                "layout version " + std::to_string(h.layout_version) +
                    ", this build reads version " + std::to_string(kVersion));
  }
  if (h.header_size != sizeof(PoolHeader)) {
    return fail(Errc::corrupt, op,
                "header size " + std::to_string(h.header_size) + ", expected " +
                    std::to_string(sizeof(PoolHeader)));
  }
  auto expected = compute_pool_geometry(h.chunk_size, h.chunk_count);
  if (!expected) return fail(Errc::corrupt, op, expected.error().detail());
  const PoolGeometry& g = *expected;

  const auto mismatch = [&](const char* field, std::uint64_t found, std::uint64_t wanted) {
    return fail(Errc::corrupt, op,
                std::string(field) + " " + std::to_string(found) + ", expected " +
                    std::to_string(wanted) + " for " + std::to_string(g.chunk_count) +
                    " chunks of " + std::to_string(g.chunk_size) + " bytes");
  };
  if (h.chunk_align != g.chunk_align)
    return mismatch("chunk alignment", h.chunk_align, g.chunk_align);
  if (h.chunk_stride != g.chunk_stride)
    return mismatch("chunk stride", h.chunk_stride, g.chunk_stride);
  if (h.control_offset != g.control_offset) {
    return mismatch("control block offset", h.control_offset, g.control_offset);
  }
  if (h.next_offset != g.next_offset)
    return mismatch("free-list offset", h.next_offset, g.next_offset);
  if (h.state_offset != g.state_offset) {
    return mismatch("chunk state offset", h.state_offset, g.state_offset);
  }
  if (h.chunk_offset != g.chunk_offset) {
    return mismatch("chunk area offset", h.chunk_offset, g.chunk_offset);
  }
  if (h.total_bytes != g.total_bytes) return mismatch("total size", h.total_bytes, g.total_bytes);
  if (g.total_bytes > region.size()) {
    return fail(Errc::corrupt, op,
                "chunk area [" + std::to_string(g.chunk_offset) + ", " +
                    std::to_string(g.total_bytes) + ") exceeds region size " +
                    std::to_string(region.size()));
  }
  return g;
}

}  // namespace zc
