// The serve part: the serve bench (bench/http) as it is: curl downloading one cached file from
// each of our body methods and from nginx, each of our servers reporting its own ledger; wrk with
// keep-alive against both; and the same wrk comparison at scale (10 000 connections in --full),
// where memory per connection is measured as well.
#include "bench/http/serve_bench.hpp"
#include "bench/suite/part.hpp"
#include "bench/support/report.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {
namespace {

Measurement download_row(const ServerFigures& s, const ServeBenchConfig& config) {
  const bool nginx = s.label == "nginx";
  const std::string method = nginx ? "nginx" : s.label.substr(s.label.find(' ') + 1);
  Measurement m{.module = "serve",
                .bench = "serve-loopback",
                .method = method,
                .side = nginx              ? Side::peer
                        : method == "copy" ? Side::baseline
                                           : Side::ours};
  const TransferLedger& l = s.ledger;
  const double gb = static_cast<double>(config.size) / 1e9;
  m.size_bytes = config.size;
  m.unit_note = "file, curl to /dev/null over loopback";
  m.bytes_per_s = l.bytes_per_s();
  m.cpu_user_s_per_gb = l.cpu_user_s / gb;
  m.cpu_system_s_per_gb = l.cpu_system_s / gb;
  m.softirq_s_per_gb = s.softirq_s_per_gb;
  m.cpu_of = nginx ? "nginx master and workers (/proc)" : "the server process (its own ledger)";
  m.repetitions = static_cast<unsigned>(config.repeats);
  m.spread = s.throughput_spread;
  if (!nginx) {
    m.ledger = MeasuredLedger{.bytes = l.bytes,
                              .bytes_zero_copy = l.bytes_zero_copy,
                              .bytes_copied_user = l.bytes_copied_user,
                              .bytes_copied_kernel = l.bytes_copied_kernel,
                              .source = LedgerSource::own};
  }
  m.counters = MeasuredCounters::from(s.counters);
  // Where the time goes: how busy each side was over the download's wall time.
  const double wall = l.wall_s;
  if (wall > 0) {
    const double server = (l.cpu_s() + s.softirq_s_per_gb * gb) / wall;
    const double client = s.client_cpu_s_per_gb * gb / wall;
    m.note = format_text(
        "wall %.2f s: server on CPU %.0f%% (user %.0f%%, system %.0f%%, softirq %.0f%%), waiting "
        "for a CPU %.0f%%; curl on CPU %.0f%% (%.3f s/GB), waiting for a CPU %.0f%%",
        wall, 100 * server, 100 * l.cpu_user_s / wall, 100 * l.cpu_system_s / wall,
        100 * s.softirq_s_per_gb * gb / wall, 100 * s.counters.run_delay_s / wall, 100 * client,
        s.client_cpu_s_per_gb, 100 * s.client_wait_s / wall);
  }
  return m;
}

Measurement wrk_row(const WrkFigures& w, const ServeBenchConfig& config) {
  const bool nginx = w.label == "nginx";
  Measurement m{.module = "serve",
                .bench = "serve-wrk-4k-c" + std::to_string(config.wrk_connections),
                .method = nginx ? "nginx" : w.label.substr(w.label.find(' ') + 1),
                .side = nginx ? Side::peer : Side::ours};
  m.size_bytes = 4096;
  m.unit_note = "response body; wrk keep-alive requests";
  m.ops_per_s = w.requests_per_s;
  m.connections = config.wrk_connections;
  m.memory_per_connection_bytes = w.memory_per_connection_bytes;
  m.repetitions = static_cast<unsigned>(config.repeats);
  m.spread = w.spread;
  m.note = describe(w.time);
  return m;
}

}  // namespace

Result<PartOutput> run_serve_part(const SuiteConfig& c) {
  PartOutput out;
  ServeBenchConfig config{.tool = c.tool,
                          .size = c.full ? kGiB : 64 * kMiB,
                          .repeats = c.full ? 3 : 1,
                          .wrk_seconds = c.full ? 5 : 1,
                          .wrk_connections = 32};
  auto report = run_serve_bench(config);
  if (!report) return std::unexpected(report.error());
  for (const ServerFigures& s : report->servers) out.rows.push_back(download_row(s, config));
  for (const WrkFigures& w : report->wrk) out.rows.push_back(wrk_row(w, config));
  if (!report->pinned) out.notes.push_back("one CPU: softirq and server CPU are not separable");

  // Scale: many idle-between-requests keep-alive connections; the download part of this run is
  // a token one and not recorded.
  ServeBenchConfig scale{.tool = c.tool,
                         .size = kMiB,
                         .repeats = c.full ? 2 : 1,
                         .wrk_seconds = c.full ? 5 : 2,
                         .wrk_connections = c.full ? 10000 : 1000};
  auto scaled = run_serve_bench(scale);
  if (!scaled) {
    out.notes.push_back("scale run with " + std::to_string(scale.wrk_connections) +
                        " connections failed: " + scaled.error().message());
  } else {
    for (const WrkFigures& w : scaled->wrk) out.rows.push_back(wrk_row(w, scale));
  }
  return out;
}

}  // namespace zc::bench
