// bench/xdp/xdp_queue_run.hpp: the loops of `zcopy xdp count|echo|forward|capture` on one
// interface queue (xdp_port.hpp opens it). count, echo and forward print a line a second on
// stdout and a summary at the end; capture writes a pcap file straight from the UMEM and reports
// on stderr, as tcpdump -w does.
//
//   const zc::bench::XdpStop stop{.flag = &g_stop, .arm = catch_stop_signals};
//   if (auto ran = zc::bench::run_xdp_count(settings, stop); !ran) return ...;
#pragma once

#include <atomic>

#include "bench/xdp/xdp_port.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

// What ends a loop early: `flag`, set by the caller's signal handler, which `arm` installs once
// the queue is open (so a signal while it opens still ends the process).
struct XdpStop {
  const std::atomic<bool>* flag;
  void (*arm)();
};

Result<void> run_xdp_count(const XdpSettings& settings, const XdpStop& stop);
// Answers ARP, ping and UDP from the frames the requests came in; `settings.interface` needs an
// Ethernet address (Errc::invalid_argument otherwise).
Result<void> run_xdp_echo(const XdpSettings& settings, const XdpStop& stop);
// Bridges settings.interface and settings.to, each one's frames leaving by the other.
Result<void> run_xdp_forward(const XdpSettings& settings, const XdpStop& stop);
// Writes settings.interface's packets to settings.write_to ("-": stdout).
Result<void> run_xdp_capture(const XdpSettings& settings, const XdpStop& stop);

}  // namespace zc::bench
