// zcopy/frame/camera_source.hpp: a capture device modelled without hardware: it writes each frame
// by DMA through a scatter-gather list of exactly the pages it was granted, and the CPU brackets
// its own access with begin/end calls where a real driver cleans or invalidates caches.
//
//   zc::DmaGrant grant = zc::DmaGrant::for_slot(chain, back->slot);   // the slot's pages, as IOVAs
//   zc::CameraDevice camera;
//   camera.capture(grant, frame_id, chain.geometry().row_bytes);       // device writes, row by row
//   grant.begin_cpu_access(zc::DmaSync::read);                         // invalidate: CPU may read
//   ... read the frame ...
//   grant.end_cpu_access(zc::DmaSync::read);                           // device may write again
//
// IOVAs. A grant lists the slot's pages as I/O virtual address ranges (here: byte offsets in the
// chain's region, one range per page, as a device without an IOMMU sees scattered pages). Every
// device write names an IOVA range; one that is not wholly inside a granted range is refused and
// counted, never performed: the model of an IOMMU fault.
//
// Access bracketing has DMA_BUF_IOCTL_SYNC's shape: begin_cpu_access(read|write) before the CPU
// touches the buffer (a driver invalidates the CPU caches for a read, so it sees what the device
// wrote), end_cpu_access() after (a driver cleans the caches after a write, so the device sees
// it). While the CPU holds access the device may not write: such writes are refused and counted.
// Calls out of order (end without begin, begin twice) fail with Errc::rejected.
//
// Thread safety: a grant and a device are used from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc {

class SwapChain;

enum class DmaSync : std::uint8_t { read = 1, write = 2, read_write = 3 };

struct IovaRange {
  std::uint64_t iova = 0;
  std::uint64_t length = 0;
};

class DmaGrant {
 public:
  // The pages of `slot` in `chain` (which must outlive the grant). Errc::invalid_argument for a
  // slot out of range.
  static Result<DmaGrant> for_slot(SwapChain& chain, std::uint32_t slot);

  const std::vector<IovaRange>& ranges() const noexcept { return ranges_; }
  // The first IOVA of the granted slot, where its frame starts.
  std::uint64_t base() const noexcept { return ranges_.empty() ? 0 : ranges_.front().iova; }

  Result<void> begin_cpu_access(DmaSync direction);
  Result<void> end_cpu_access(DmaSync direction);
  bool cpu_owned() const noexcept { return cpu_access_ != 0; }
  // Calls made, for checking that a consumer brackets every access.
  std::uint64_t begins() const noexcept { return begins_; }
  std::uint64_t ends() const noexcept { return ends_; }

 private:
  friend class CameraDevice;
  DmaGrant(std::span<std::byte> memory, std::vector<IovaRange> ranges) noexcept
      : memory_(memory), ranges_(std::move(ranges)) {}
  // The bytes behind [iova, iova + length) when wholly granted; empty otherwise.
  std::span<std::byte> translate(std::uint64_t iova, std::uint64_t length) const noexcept;

  std::span<std::byte> memory_;  // the chain's whole region: IOVA 0 is its first byte
  std::vector<IovaRange> ranges_;
  std::uint8_t cpu_access_ = 0;
  std::uint64_t begins_ = 0;
  std::uint64_t ends_ = 0;
};

class CameraDevice {
 public:
  // One DMA write of `data` at `iova`. Refused (Errc::rejected, counted) outside the grant or
  // while the CPU holds access.
  Result<void> dma_write(DmaGrant& grant, std::uint64_t iova, std::span<const std::byte> data);
  // A whole frame: the frame pattern of `frame_id` (frame_pattern.hpp), row by row, each row one
  // DMA write through the grant. Stops at the first refused write.
  Result<void> capture(DmaGrant& grant, std::uint64_t frame_id, std::size_t row_bytes,
                       std::size_t rows);

  std::uint64_t writes() const noexcept { return writes_; }
  std::uint64_t refused() const noexcept { return refused_; }

 private:
  std::vector<std::byte> row_;  // the sensor's line buffer
  std::uint64_t writes_ = 0;
  std::uint64_t refused_ = 0;
};

}  // namespace zc
