#include "zcopy/xdp/socket_statistics.hpp"

#include "zcopy/core/units.hpp"

namespace zc::xdp {

std::string summary(const SocketStatistics& s) {
  return "rx " + std::to_string(s.rx_packets) + " (" + format_bytes(s.rx_bytes) + ") tx " +
         std::to_string(s.tx_packets) + " dropped " + std::to_string(s.dropped()) + " (ring full " +
         std::to_string(s.kernel_rx_ring_full) + ") fill-empty " +
         std::to_string(s.kernel_rx_fill_ring_empty) + " no-frames " +
         std::to_string(s.frames_unavailable) + " invalid " + std::to_string(s.invalid()) +
         " held " + std::to_string(s.frames_held);
}

}  // namespace zc::xdp
