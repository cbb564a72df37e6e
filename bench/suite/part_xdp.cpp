// The xdp part: receive rate and CPU per packet on a veth pair of the bench's own (bench/xdp, as
// `zcopy xdp bench` runs it): an AF_XDP socket (ours) against AF_PACKET with a TPACKET_V3 ring
// and recvmmsg on a UDP socket (the peers), 64-byte frames, the same traffic for each. The
// starvation and capture experiments of `zcopy xdp bench` are left to it: they measure no peer.
#include <unistd.h>

#include "bench/suite/part.hpp"
#include "bench/support/report.hpp"
#include "bench/xdp/xdp_bench.hpp"

namespace zc::bench {

Result<PartOutput> run_xdp_part(const SuiteConfig& c) {
  if (::geteuid() != 0)
    return fail(Errc::capability_missing, "xdp",
                "needs root: network namespaces, a veth pair and an XDP program");
  XdpBenchConfig config{.tool = c.tool,
                        .seconds = c.full ? 1.0 : 0.3,
                        .rounds = c.full ? 3 : 1,
                        .starvation = false,
                        .capture = false};
  auto report = run_xdp_bench(config);
  if (!report) return std::unexpected(report.error());
  PartOutput out;
  for (const ReceiveFigures& f : report->receive) {
    Measurement m{.module = "xdp",
                  .bench = "xdp-receive",
                  .method = f.method,
                  .side = f.method == "af_xdp" ? Side::ours : Side::peer};
    m.size_bytes = config.size;
    m.unit_note = "frame on the wire; packets received per second on veth";
    m.ops_per_s = f.mpps * 1e6;
    // Nanoseconds per packet over bytes per packet: nanoseconds per byte, seconds per GB.
    m.cpu_total_s_per_gb = f.cpu_ns_per_packet / config.size;
    m.softirq_s_per_gb = f.softirq_ns_per_packet / config.size;
    m.cpu_of = "the receiving process (user and system); softirq: every CPU";
    m.repetitions = static_cast<unsigned>(config.rounds);
    m.spread = f.spread;
    m.note = format_text("%.1f %% of %.3f Mpps offered lost", f.loss * 100, f.offered_mpps);
    if (!f.detail.empty()) m.note += "; " + f.detail;
    out.rows.push_back(m);
  }
  out.notes.push_back(
      "veth offers AF_XDP only its copy mode: the figures are the receive path's, not a NIC's "
      "zero-copy queue");
  return out;
}

}  // namespace zc::bench
