// bench/xdp/xdp_port.hpp: what the `zcopy xdp` runs share: a UMEM and the interface queues
// they open on it, when to stop, and the once-a-second statistics line.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/xdp/bind_mode.hpp"
#include "zcopy/xdp/pcap_writer.hpp"
#include "zcopy/xdp/redirect_program.hpp"
#include "zcopy/xdp/socket.hpp"
#include "zcopy/xdp/umem.hpp"

namespace zc::bench {

struct XdpSettings {
  std::string interface;
  std::string to;  // forward: the other interface
  std::uint32_t queue = 0;
  xdp::ModeChoice mode = xdp::ModeChoice::automatic;
  std::uint32_t frames = 4096;
  std::uint64_t count = 0;  // stop after this many packets (0: when stopped)
  double seconds = 0;       // stop after this long (0: when stopped)
  std::string write_to;     // capture -w
  std::uint32_t snaplen = xdp::PcapWriter::kMaxSnaplen;
  // A run that only receives (capture) lends the kernel every frame it does not hold itself:
  // what a stalled consumer can leave in the rx ring before packets drop is the fill ring.
  bool receive_only = false;
};

// The fill ring's size for --frames, a power of two: half of them, at most 8192 (the rest are
// for the application and tx); every frame, as a power of two, for a receive-only run.
std::uint32_t fill_ring_size(const XdpSettings& settings);
// The UMEM a command's sockets share, sized from --frames.
Result<xdp::Umem> make_umem(const XdpSettings& settings);

// One interface queue: the program attached to the interface and the socket on the queue. The
// program lives on the heap, where the socket's pointer to it stays valid when a Port moves.
struct Port {
  std::unique_ptr<xdp::RedirectProgram> program;
  std::optional<xdp::Socket> socket;
};
// Opens `interface` queue `queue` on `umem`; the mode line goes to stderr.
Result<Port> open_port(xdp::Umem& umem, const std::string& interface, const XdpSettings& settings);

// A UMEM of its own with one port on settings.interface: what count, echo and capture run on.
// The Umem lives on the heap, where the socket's pointer to it stays valid when this moves.
struct Queue {
  std::unique_ptr<xdp::Umem> umem;
  Port port;
};
Result<Queue> open_queue(const XdpSettings& settings);

// When a run's loop should end: `stop` set (by a signal), --count reached, or --seconds passed.
class StopRule {
 public:
  StopRule(const XdpSettings& settings, const std::atomic<bool>& stop);
  bool done(std::uint64_t packets) const;

 private:
  const std::atomic<bool>& stop_;
  std::uint64_t count_;
  std::chrono::steady_clock::time_point deadline_;
  bool timed_;
};

// Prints, once a second, what each socket did in that second (one line per socket).
class SecondReporter {
 public:
  explicit SecondReporter(std::vector<const xdp::Socket*> sockets);
  void tick();

 private:
  std::vector<const xdp::Socket*> sockets_;
  std::vector<xdp::SocketStatistics> last_;
  std::chrono::steady_clock::time_point start_, last_time_;
};

}  // namespace zc::bench
