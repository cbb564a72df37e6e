// zcopy/xdp/socket_statistics.hpp: what an AF_XDP socket counted, and what the kernel counted for
// it (getsockopt XDP_STATISTICS).
#pragma once

#include <cstdint>
#include <string>

namespace zc::xdp {

struct SocketStatistics {
  // Counted by the socket as it moves frames.
  std::uint64_t rx_packets = 0;
  std::uint64_t rx_bytes = 0;
  std::uint64_t tx_packets = 0;  // put on the tx ring
  std::uint64_t tx_bytes = 0;
  std::uint64_t tx_completed = 0;  // came back through the completion ring
  // Refills that found the fill ring empty: the kernel had used every frame it was given, so
  // packets arriving just before may have been dropped.
  std::uint64_t fill_ring_empty = 0;
  // Refills that wanted frames and found none free: the application holds them all.
  std::uint64_t frames_unavailable = 0;
  // Descriptors counted and never followed: an rx descriptor outside the UMEM, longer than its
  // frame, or naming a frame the kernel did not hold for this socket; a completion naming a
  // frame that was not being sent; a ring index more than a ring ahead.
  std::uint64_t invalid_rx_descriptors = 0;
  std::uint64_t invalid_completions = 0;
  std::uint64_t ring_faults = 0;

  // The kernel's XDP_STATISTICS for this socket.
  std::uint64_t kernel_rx_dropped = 0;  // includes packets lost to an empty fill ring
  std::uint64_t kernel_rx_invalid_descs = 0;
  std::uint64_t kernel_tx_invalid_descs = 0;
  std::uint64_t kernel_rx_ring_full = 0;
  std::uint64_t kernel_rx_fill_ring_empty = 0;  // times the kernel found the fill ring empty
  std::uint64_t kernel_tx_ring_empty = 0;

  // Frames the application holds, UMEM-wide, at the time of the snapshot.
  std::uint32_t frames_held = 0;

  // Packets the kernel had for this socket and could not deliver.
  std::uint64_t dropped() const noexcept { return kernel_rx_dropped + kernel_rx_ring_full; }
  std::uint64_t invalid() const noexcept {
    return invalid_rx_descriptors + invalid_completions + ring_faults;
  }
};

// "rx 1200 (96.0 KiB) tx 0 dropped 0 (ring full 0) fill-empty 0/0 invalid 0 held 0".
std::string summary(const SocketStatistics& s);

}  // namespace zc::xdp
