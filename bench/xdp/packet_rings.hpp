// bench/xdp/packet_rings.hpp: the AF_PACKET sides of the XDP bench: a sender that pushes one
// prebuilt frame through a TPACKET_V2 TX ring with the qdisc bypassed, and a TPACKET_V3 receive
// ring walked block by block.
//
//   auto tx = zc::bench::PacketTxRing::open("zcx1");
//   tx->send_for(frame, std::chrono::seconds(1), 0);   // as fast as it goes
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::bench {

// A mapping of a packet ring, unmapped on destruction.
class RingMapping {
 public:
  RingMapping() = default;
  RingMapping(void* data, std::size_t size) noexcept : data_(data), size_(size) {}
  RingMapping(RingMapping&& other) noexcept;
  RingMapping& operator=(RingMapping&& other) noexcept;
  ~RingMapping();
  std::byte* data() const noexcept { return static_cast<std::byte*>(data_); }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

struct SendResult {
  std::uint64_t sent = 0;  // frames the ring handed to the driver
  double seconds = 0;
  // send() calls the device pushed back on (ENOBUFS: a veth peer's queue full); the frames stay
  // on the ring and go with the next call, so the receiving side set the pace, losing nothing.
  std::uint64_t pushed_back = 0;
  std::uint64_t calls = 0;
};

class PacketTxRing {
 public:
  static Result<PacketTxRing> open(const std::string& interface);
  // Sends `frame` again and again for `duration`, or until `limit` frames (0: no limit), at
  // `pps` frames a second (0: as fast as the ring goes).
  Result<SendResult> send_for(std::span<const std::byte> frame,
                              std::chrono::duration<double> duration, double pps,
                              std::uint64_t limit = 0);

 private:
  Fd fd_;
  RingMapping ring_;
};

struct ReceiveCount {
  std::uint64_t packets = 0;
  std::uint64_t dropped = 0;  // PACKET_STATISTICS
};

class PacketRxRing {
 public:
  static Result<PacketRxRing> open(const std::string& interface);
  // Takes every block the kernel has retired, returns each at once; waits up to `timeout` for
  // one when there is none. The packets it counted.
  std::uint64_t drain(std::chrono::milliseconds timeout);
  std::uint64_t dropped();

 private:
  Fd fd_;
  RingMapping ring_;
  std::uint32_t block_ = 0;
};

}  // namespace zc::bench
