// bench/xdp/xdp_bench.hpp: receive paths side by side on a veth pair of the bench's own.
//
// Two namespaces joined by veth (bench/support/veth_pair.hpp); a sender in one pushes prebuilt
// UDP frames through an AF_PACKET TX ring with the qdisc bypassed, pinned to CPU 1; a receiver in
// the other, pinned to CPU 0, takes them by one method:
//   af_xdp     an AF_XDP socket (copy mode: veth has no zero-copy), frames returned at once;
//   af_packet  an AF_PACKET socket with a TPACKET_V3 rx ring, blocks returned at once;
//   recvmmsg   a UDP socket bound to the port, 64 datagrams per call.
// Each round runs every method once against the same traffic; a figure is the median of the
// rounds. Receive rate is packets over the time from the first to the last; CPU per packet is the
// receiver's own CPU (user and system) over its packets, and softirq per packet is what every
// CPU spent in softirq over the same packets (veth runs the receive path, XDP included, there).
//
// Starvation: an AF_XDP consumer stops returning frames for a while, with the sender at a steady
// rate, for a few fill-ring and UMEM sizes: when the drops begin, how many, and how long after
// the frames come back the drops stop.
//
// Capture: `zcopy xdp capture` and `tcpdump -w` at the same offered loads, in the receiving
// namespace, each writing its file in the same directory: packets sent, captured, and dropped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/support/report.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

struct XdpBenchConfig {
  std::string tool{};    // the zcopy binary whose `xdp capture` is measured
  double seconds = 1.0;  // of traffic per run
  std::vector<std::string> methods{"af_xdp", "af_packet", "recvmmsg"};  // in this order
  int rounds = 3;                                                       // the median of these
  std::uint32_t size = 64;  // bytes on the wire, Ethernet header included (the minimum: 60)
  // Receive: veth's NAPI polled by a kernel thread pinned to the receiver's CPU (napi_thread.hpp)
  // rather than inline on the sender's, so the sender can offer more than a receiver takes.
  bool napi_thread = false;
  // Receive: sender, receiver and NAPI thread under SCHED_FIFO, so that other work on the
  // machine takes none of their CPU and the rates are the paths', not the scheduler's.
  bool realtime = false;
  bool starvation = true;                              // run the starvation experiment
  double stall_ms = 100;                               // how long the consumer holds its frames
  bool capture = true;                                 // compare with tcpdump -w (needs tcpdump)
  std::vector<double> capture_rates{100e3, 300e3, 0};  // offered pps; 0: as fast as it goes
};

struct ReceiveFigures {
  std::string method{};          // af_xdp, af_packet, recvmmsg
  double mpps = 0;               // received
  double offered_mpps = 0;       // sent in the same run
  double cpu_ns_per_packet = 0;  // the receiver's own
  double softirq_ns_per_packet = 0;
  double napi_ns_per_packet = 0;  // the NAPI kthread's, with napi_thread (10 ms ticks)
  double loss = 0;                // 1 - received / sent
  double socket_dropped = 0;      // what the receiving socket counted as dropped
  double pushed_back = 0;         // share of the sender's calls the receiving side pushed back on
  double spread = 0;              // of the rate over the rounds (stats.hpp)
  std::string detail{};           // the AF_XDP mode line
};

struct StarvationFigures {
  std::uint32_t frames = 0;  // UMEM
  std::uint32_t fill_ring = 0;
  double offered_pps = 0;
  double first_drop_ms = -1;      // after the stall began; -1: none
  std::uint64_t dropped = 0;      // by the kernel, over the run
  double recovery_ms = -1;        // after the frames came back, until the drops stopped
  std::string drops_over_time{};  // drops per 10 ms bucket from the stall on, "0 0 12 840 ..."
};

struct CaptureFigures {
  std::string tool{};      // "zcopy xdp capture", "tcpdump -w"
  double offered_pps = 0;  // asked for; 0: as fast as the sender goes
  double sent_pps = 0;     // what the sender reached
  std::uint64_t sent = 0;
  std::uint64_t captured = 0;          // records in the file
  std::uint64_t reported_dropped = 0;  // what the tool said on exit
  double cpu_ns_per_packet = 0;        // the tool's user + system time once it listened
};

struct XdpBenchReport {
  std::vector<ReceiveFigures> receive{};
  std::vector<StarvationFigures> starvation{};
  std::vector<CaptureFigures> capture{};
};

// Needs root, AF_XDP and native XDP on veth (capability_missing otherwise).
Result<XdpBenchReport> run_xdp_bench(const XdpBenchConfig& config);

// Records: xdp-receive (method = af_xdp, af_packet, recvmmsg), xdp-starvation, xdp-capture; and
// the tables, with the ratios af_xdp/af_packet and af_xdp/recvmmsg.
Report describe(const XdpBenchReport& report, const XdpBenchConfig& config);

}  // namespace zc::bench
