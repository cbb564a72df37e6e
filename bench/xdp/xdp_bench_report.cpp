// What `zcopy xdp bench` shows: receive rate and CPU per packet per method with the ratios of
// AF_XDP to the others, the starvation runs, and the captures beside tcpdump's.
#include <string>

#include "bench/support/table.hpp"
#include "bench/xdp/xdp_bench.hpp"

namespace zc::bench {
namespace {

double ratio_or_zero(double a, double b) {
  return b > 0 ? a / b : 0.0;
}

const ReceiveFigures* find(const XdpBenchReport& r, std::string_view method) {
  for (const ReceiveFigures& f : r.receive)
    if (f.method == method) return &f;
  return nullptr;
}

std::string ms_or_none(double ms) {
  return ms < 0 ? "-" : fixed(ms, 0) + " ms";
}

}  // namespace

Report describe(const XdpBenchReport& r, const XdpBenchConfig& c) {
  Report out;
  const ReceiveFigures* xdp = find(r, "af_xdp");
  out.text += format_text(
      "Receive on veth, %u-byte frames, sender on CPU 1 (AF_PACKET TX ring, qdisc bypassed), "
      "receiver on CPU 0%s%s; medians of %d runs of %.1f s\n",
      c.size, c.napi_thread ? " with veth's NAPI thread" : " (veth's NAPI on CPU 1)",
      c.realtime ? ", all SCHED_FIFO" : "", c.rounds, c.seconds);
  Table t({"method", "Mpps", "vs af_xdp", "offered Mpps", "lost", "socket dropped", "pushed back",
           "CPU ns/pkt", "NAPI thread ns/pkt", "softirq ns/pkt", "spread"});
  for (const ReceiveFigures& f : r.receive) {
    const double vs = xdp ? ratio_or_zero(xdp->mpps, f.mpps) : 0;
    JsonRecord record;
    record.add("bench", "xdp-receive")
        .add("method", f.method)
        .add("mpps", f.mpps)
        .add("offered_mpps", f.offered_mpps)
        .add("loss", f.loss)
        .add("socket_dropped", f.socket_dropped)
        .add("pushed_back", f.pushed_back)
        .add("cpu_ns_per_packet", f.cpu_ns_per_packet)
        .add("softirq_ns_per_packet", f.softirq_ns_per_packet)
        .add("napi_thread_ns_per_packet", f.napi_ns_per_packet)
        .add("af_xdp_ratio", vs)
        .add("spread", f.spread)
        .add("frame_bytes", static_cast<std::uint64_t>(c.size))
        .add("detail", f.detail);
    out.records.push_back(std::move(record));
    t.add_row({f.method, fixed(f.mpps, 3), fixed(vs, 2) + "x", fixed(f.offered_mpps, 3),
               fixed(f.loss * 100, 1) + " %", fixed(f.socket_dropped, 0),
               fixed(f.pushed_back * 100, 0) + " %", fixed(f.cpu_ns_per_packet, 0),
               fixed(f.napi_ns_per_packet, 0), fixed(f.softirq_ns_per_packet, 0),
               fixed(f.spread * 100, 0) + " %"});
  }
  out.text += t.str();
  if (xdp) out.text += format_text("  af_xdp: %s\n", xdp->detail.c_str());

  if (!r.starvation.empty()) {
    out.text += format_text(
        "\nStarvation: the consumer keeps every frame for %.0f ms, then returns them all\n",
        c.stall_ms);
    Table s({"UMEM frames", "fill ring", "offered pps", "first drop", "dropped", "recovered after",
             "drops per 10 ms from the stall on"});
    for (const StarvationFigures& f : r.starvation) {
      JsonRecord record;
      record.add("bench", "xdp-starvation")
          .add("method", "af_xdp")
          .add("umem_frames", static_cast<std::uint64_t>(f.frames))
          .add("fill_ring", static_cast<std::uint64_t>(f.fill_ring))
          .add("offered_pps", f.offered_pps)
          .add("stall_ms", c.stall_ms)
          .add("first_drop_ms", f.first_drop_ms)
          .add("dropped", f.dropped)
          .add("recovery_ms", f.recovery_ms)
          .add("drops_per_10ms", f.drops_over_time);
      out.records.push_back(std::move(record));
      s.add_row({std::to_string(f.frames), std::to_string(f.fill_ring), fixed(f.offered_pps, 0),
                 ms_or_none(f.first_drop_ms), std::to_string(f.dropped), ms_or_none(f.recovery_ms),
                 f.drops_over_time});
    }
    out.text += s.str();
  }

  if (!r.capture.empty()) {
    out.text += "\nCapture to a file, same offered load (0: as fast as the sender goes)\n";
    Table s({"tool", "offered pps", "sent pps", "sent", "captured", "lost", "tool says dropped",
             "CPU ns/pkt"});
    for (const CaptureFigures& f : r.capture) {
      const std::uint64_t lost = f.sent > f.captured ? f.sent - f.captured : 0;
      JsonRecord record;
      record.add("bench", "xdp-capture")
          .add("method", f.tool == "tcpdump -w" ? "af_packet" : "af_xdp")
          .add("tool", f.tool)
          .add("offered_pps", f.offered_pps)
          .add("sent_pps", f.sent_pps)
          .add("sent", f.sent)
          .add("captured", f.captured)
          .add("lost", lost)
          .add("reported_dropped", f.reported_dropped)
          .add("cpu_ns_per_packet", f.cpu_ns_per_packet);
      out.records.push_back(std::move(record));
      s.add_row({f.tool, fixed(f.offered_pps, 0), fixed(f.sent_pps, 0), std::to_string(f.sent),
                 std::to_string(f.captured), std::to_string(lost),
                 std::to_string(f.reported_dropped), fixed(f.cpu_ns_per_packet, 0)});
    }
    out.text += s.str();
  }
  return out;
}

}  // namespace zc::bench
