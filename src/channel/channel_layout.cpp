// Computing, laying out and validating a channel subscriber's control region.
#include "zcopy/channel/channel_layout.hpp"

#include <bit>
#include <cstring>
#include <new>
#include <string>

namespace zc {
namespace {

constexpr std::uint32_t kMaxQueueDepth = 1U << 16;
constexpr std::uint32_t kMaxChunkCount = 1U << 24;
constexpr std::uint32_t kMaxChunkSize = 1U << 30;

constexpr std::uint64_t align_up(std::uint64_t value) {
  return (value + kCacheLine - 1) / kCacheLine * kCacheLine;
}

std::unexpected<Error> corrupt(const std::string& reason) {
  return fail(Errc::corrupt, "channel header", reason);
}

std::string num(std::uint64_t value) {
  return std::to_string(value);
}

}  // namespace

ChannelGeometry channel_geometry(std::uint32_t chunk_size, std::uint32_t chunk_count,
                                 std::uint32_t queue_depth) noexcept {
  ChannelGeometry g;
  g.chunk_size = chunk_size;
  g.chunk_count = chunk_count;
  g.queue_depth = queue_depth;
  g.release_capacity = std::bit_ceil(chunk_count < 2 ? 2U : chunk_count);
  g.control_offset = sizeof(ChannelHeader);
  g.descriptor_offset = g.control_offset + sizeof(ChannelControl);
  g.release_offset =
      align_up(g.descriptor_offset + std::uint64_t{queue_depth} * sizeof(DescriptorSlot));
  g.total_bytes = g.release_offset + SpscRing<std::uint32_t>::bytes_for(g.release_capacity);
  return g;
}

Result<ChannelGeometry> validate_channel_header(std::span<const std::byte> region) {
  if (region.size() < sizeof(ChannelHeader)) {
    return corrupt("region of " + num(region.size()) + " bytes is shorter than the " +
                   num(sizeof(ChannelHeader)) + "-byte header");
  }
  // A copy: the peer may still be writing, and the bytes need not be aligned (fuzzer input).
  ChannelHeader h;
  std::memcpy(&h, region.data(), sizeof h);
  if (h.magic != ChannelHeader::kMagic) return corrupt("bad magic (not a zcopy channel)");
  if (h.layout_version != ChannelHeader::kLayoutVersion) {
    return corrupt("layout version " + num(h.layout_version) + ", this build reads " +
                   num(ChannelHeader::kLayoutVersion));
  }
  if (h.header_size != sizeof(ChannelHeader)) {
    return corrupt("header size " + num(h.header_size) + ", expected " +
                   num(sizeof(ChannelHeader)));
  }
  if (h.chunk_size == 0 || h.chunk_size > kMaxChunkSize) {
    return corrupt("chunk size " + num(h.chunk_size) + " is outside [1, 1 GiB]");
  }
  if (h.chunk_count == 0 || h.chunk_count > kMaxChunkCount) {
    return corrupt("chunk count " + num(h.chunk_count) + " is outside [1, 2^24]");
  }
  if (h.queue_depth < 2 || h.queue_depth > kMaxQueueDepth || !std::has_single_bit(h.queue_depth)) {
    return corrupt("queue depth " + num(h.queue_depth) + " is not a power of two in [2, 65536]");
  }
  if (h.backpressure > 1) return corrupt("unknown back-pressure mode " + num(h.backpressure));
  if ((h.remote_fences & ~(kPublisherFenced | kSubscriberFenced)) != 0) {
    return corrupt("unknown fence mode " + num(h.remote_fences));
  }
  const ChannelGeometry expected = channel_geometry(h.chunk_size, h.chunk_count, h.queue_depth);
  if (h.release_capacity != expected.release_capacity) {
    return corrupt("release ring capacity " + num(h.release_capacity) + ", expected " +
                   num(expected.release_capacity) + " for " + num(h.chunk_count) + " chunks");
  }
  if (h.control_offset != expected.control_offset) {
    return corrupt("control offset " + num(h.control_offset) + ", expected " +
                   num(expected.control_offset));
  }
  if (h.descriptor_offset != expected.descriptor_offset) {
    return corrupt("descriptor offset " + num(h.descriptor_offset) + ", expected " +
                   num(expected.descriptor_offset));
  }
  if (h.release_offset != expected.release_offset) {
    return corrupt("release ring offset " + num(h.release_offset) + ", expected " +
                   num(expected.release_offset));
  }
  if (h.total_bytes != expected.total_bytes) {
    return corrupt("total size " + num(h.total_bytes) + ", expected " + num(expected.total_bytes));
  }
  if (h.total_bytes > region.size()) {
    return corrupt("layout of " + num(h.total_bytes) + " bytes exceeds region size " +
                   num(region.size()));
  }
  ChannelGeometry g = expected;
  g.backpressure = h.backpressure;
  g.subscriber_id = h.subscriber_id;
  g.remote_fences = h.remote_fences;
  return g;
}

void initialise_channel_region(std::span<std::byte> region, const ChannelGeometry& g) {
  ChannelHeader header{};
  header.magic = ChannelHeader::kMagic;
  header.layout_version = ChannelHeader::kLayoutVersion;
  header.header_size = sizeof(ChannelHeader);
  header.chunk_size = g.chunk_size;
  header.chunk_count = g.chunk_count;
  header.queue_depth = g.queue_depth;
  header.release_capacity = g.release_capacity;
  header.control_offset = g.control_offset;
  header.descriptor_offset = g.descriptor_offset;
  header.release_offset = g.release_offset;
  header.total_bytes = g.total_bytes;
  header.backpressure = g.backpressure;
  header.subscriber_id = g.subscriber_id;
  header.remote_fences = g.remote_fences;
  std::memcpy(region.data(), &header, sizeof header);
  ::new (static_cast<void*>(region.data() + g.control_offset)) ChannelControl{};
  for (std::uint32_t i = 0; i < g.queue_depth; ++i) {
    ::new (static_cast<void*>(region.data() + g.descriptor_offset + i * sizeof(DescriptorSlot)))
        DescriptorSlot{};
  }
  // The ring object is dropped: only its layout in memory matters here. Both sides attach later.
  auto ring =
      SpscRing<std::uint32_t>::create_in(region.subspan(g.release_offset), g.release_capacity);
  (void)ring;
}

}  // namespace zc
