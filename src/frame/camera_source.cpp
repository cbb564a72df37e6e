// DmaGrant and CameraDevice: DMA writes through granted IOVA ranges, bracketed CPU access.
#include "zcopy/frame/camera_source.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "zcopy/frame/frame_pattern.hpp"
#include "zcopy/frame/swap_chain.hpp"

namespace zc {

Result<DmaGrant> DmaGrant::for_slot(SwapChain& chain, std::uint32_t slot) {
  if (slot >= chain.geometry().slot_count) {
    return fail(Errc::invalid_argument, "dma grant",
                "slot " + std::to_string(slot) + " out of range");
  }
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  const std::uint64_t start = chain.geometry().offset_of(slot);
  const std::uint64_t end = start + chain.geometry().slot_bytes;
  std::vector<IovaRange> ranges;
  for (std::uint64_t at = start; at < end; at += page) {
    ranges.push_back({at, std::min(page, end - at)});
  }
  // IOVA 0 is the region's first byte.
  return DmaGrant(chain.region().bytes(), std::move(ranges));
}

std::span<std::byte> DmaGrant::translate(std::uint64_t iova, std::uint64_t length) const noexcept {
  // Ranges are sorted and adjacent ranges are contiguous IOVAs: find the first, walk to the end.
  std::uint64_t covered_to = 0;
  bool started = false;
  for (const IovaRange& r : ranges_) {
    if (!started) {
      if (iova >= r.iova && iova < r.iova + r.length) {
        started = true;
        covered_to = r.iova + r.length;
      }
    } else if (r.iova == covered_to) {
      covered_to += r.length;
    } else {
      break;
    }
    if (started && iova + length <= covered_to) return memory_.subspan(iova, length);
  }
  return {};
}

Result<void> DmaGrant::begin_cpu_access(DmaSync direction) {
  if (cpu_access_ != 0) {
    return fail(Errc::rejected, "dma begin_cpu_access", "the CPU already holds access");
  }
  // A driver invalidates the CPU caches here for a read, so the CPU sees the device's writes.
  cpu_access_ = static_cast<std::uint8_t>(direction);
  ++begins_;
  return {};
}

Result<void> DmaGrant::end_cpu_access(DmaSync direction) {
  if (cpu_access_ != static_cast<std::uint8_t>(direction)) {
    return fail(Errc::rejected, "dma end_cpu_access",
                cpu_access_ == 0 ? "no access was begun" : "direction differs from begin");
  }
  // A driver cleans the CPU caches here after a write, so the device sees the CPU's writes.
  cpu_access_ = 0;
  ++ends_;
  return {};
}

Result<void> CameraDevice::dma_write(DmaGrant& grant, std::uint64_t iova,
                                     std::span<const std::byte> data) {
  if (grant.cpu_owned()) {
    ++refused_;
    return fail(Errc::rejected, "dma write", "the CPU holds access to the buffer");
  }
  const std::span<std::byte> target = grant.translate(iova, data.size());
  if (target.empty() && !data.empty()) {
    ++refused_;
    return fail(Errc::rejected, "dma write",
                "[" + std::to_string(iova) + ", " + std::to_string(iova + data.size()) +
                    ") is outside the grant");
  }
  std::memcpy(target.data(), data.data(), data.size());
  ++writes_;
  return {};
}

Result<void> CameraDevice::capture(DmaGrant& grant, std::uint64_t frame_id, std::size_t row_bytes,
                                   std::size_t rows) {
  row_.resize(row_bytes);
  for (std::size_t r = 0; r < rows; ++r) {
    // The sensor's line for row r: the same picture the renderer makes, one row at a time.
    render_frame_pattern_row(row_, r, frame_id);
    if (auto ok = dma_write(grant, grant.base() + r * row_bytes, row_); !ok) return ok;
  }
  return {};
}

}  // namespace zc
