// What `zcopy serve bench` shows: each server's figures, and each against nginx and against our
// copy server.
#include "bench/http/serve_bench.hpp"
#include "bench/support/table.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {
namespace {

double ratio_or_zero(double a, double b) {
  return b > 0 ? a / b : 0.0;
}

struct Versus {
  double nginx_throughput = 0, copy_cpu = 0, copy_own_cpu = 0;
};

Versus versus(const ServeBenchReport& r, const ServerFigures& s) {
  const ServerFigures& nginx = r.servers.back();
  const ServerFigures* copy = &nginx;
  for (const ServerFigures& other : r.servers)
    if (other.label == "serve copy") copy = &other;
  return {ratio_or_zero(s.ledger.bytes_per_s(), nginx.ledger.bytes_per_s()),
          ratio_or_zero(s.ledger.cpu_s_per_gb(), copy->ledger.cpu_s_per_gb()),
          ratio_or_zero(s.own_cpu_s_per_gb, copy->own_cpu_s_per_gb)};
}

}  // namespace

std::string describe(const WrkTime& t) {
  return format_text(
      "server on CPU %.0f%% (user %.0f%%, system %.0f%%), waiting for a CPU %.0f%%, %.1f us CPU "
      "per request; wrk on CPU %.0f%%",
      100 * (t.server_user + t.server_system), 100 * t.server_user, 100 * t.server_system,
      100 * t.server_waiting, t.server_cpu_us_per_request, 100 * t.client);
}

Report describe(const ServeBenchReport& r, const ServeBenchConfig& c) {
  Report out;
  Table t({"server", "throughput", "vs nginx", "CPU s/GB", "vs copy", "softirq", "own",
           "own vs copy", "zero-copy", "copied (kernel)"});
  for (const ServerFigures& s : r.servers) {
    const Versus v = versus(r, s);
    const TransferLedger& m = s.ledger;
    JsonRecord record = m.record(c.tls ? "serve-tls" : c.veth ? "serve-veth" : "serve-loopback");
    record.add("server", s.label)
        .add("vs_nginx_throughput", v.nginx_throughput)
        .add("vs_copy_cpu", v.copy_cpu)
        .add("softirq_s_per_gb", s.softirq_s_per_gb)
        .add("own_cpu_s_per_gb", s.own_cpu_s_per_gb)
        .add("vs_copy_own_cpu", v.copy_own_cpu)
        .add("throughput_spread", s.throughput_spread)
        .add("client_cpu_s_per_gb", s.client_cpu_s_per_gb)
        .add("pinned", r.pinned)
        .add("repeats", c.repeats);
    out.records.push_back(record);
    t.add_row({s.label, format_rate(m.bytes_per_s()), fixed(v.nginx_throughput, 2) + "x",
               fixed(m.cpu_s_per_gb(), 3), fixed(v.copy_cpu, 2) + "x", fixed(s.softirq_s_per_gb, 3),
               fixed(s.own_cpu_s_per_gb, 3), fixed(v.copy_own_cpu, 2) + "x",
               format_bytes(m.bytes_zero_copy), format_bytes(m.bytes_copied_kernel)});
  }
  out.text = format_text(
      "zcopy serve bench: %s cached file over %s%s, curl to /dev/null, median of %d after a "
      "warm-up (shared machine: figures are noisy)\n",
      format_bytes(c.size).c_str(), c.veth ? "a veth pair" : "loopback",
      c.tls ? " with TLS 1.3 (nginx: ssl, sendfile off; 'vs copy' is against nginx)" : "",
      c.repeats);
  out.text += t.str();
  out.text += format_text(
      "  CPU: the server's user+sys (ours: its own ledger); softirq: receive-side TCP work on the "
      "server's CPU during the download, which the kernel charges to the sender; own: CPU minus "
      "softirq%s\n",
      r.pinned ? " (servers on CPU 0, curl on CPU 1)" : " (one CPU: not separable)");
  for (const WrkFigures& w : r.wrk) {
    JsonRecord record = bench_record(c.veth ? "serve-wrk-4k-veth" : "serve-wrk-4k", w.label, 4096);
    record.add("ops_per_s", w.requests_per_s)
        .add("vs_nginx", ratio_or_zero(w.requests_per_s, r.wrk.back().requests_per_s))
        .add("connections", c.wrk_connections)
        .add("spread", w.spread)
        .add("memory_per_connection_bytes", w.memory_per_connection_bytes);
    out.records.push_back(record);
  }
  for (const WrkFigures& w : r.wrk)
    out.text += format_text("  %s: %s\n", w.label.c_str(), describe(w.time).c_str());
  if (r.wrk.size() == 2) {
    out.text += format_text(
        "wrk 4 KiB keep-alive, %d connections, %d s: %s %.0f req/s, nginx %.0f req/s (%.2fx); "
        "memory per connection %.0f B and %.0f B\n",
        c.wrk_connections, c.wrk_seconds, r.wrk[0].label.c_str(), r.wrk[0].requests_per_s,
        r.wrk[1].requests_per_s, ratio_or_zero(r.wrk[0].requests_per_s, r.wrk[1].requests_per_s),
        r.wrk[0].memory_per_connection_bytes, r.wrk[1].memory_per_connection_bytes);
  }
  return out;
}

}  // namespace zc::bench
