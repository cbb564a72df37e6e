// The channel part: the channel bench's own measurements (bench/channel), each method at each
// size, with the bytes that went through read() and write() counted by the kernel. zcopy and
// zcopy-batch are ours; Eclipse iceoryx (its RouDi and the zcopy-iceoryx-peer program) is the
// zero-copy peer, beside a Unix socket, a pipe and Boost.Interprocess.
#include <algorithm>

#include "bench/channel/channel_bench.hpp"
#include "bench/suite/part.hpp"
#include "bench/support/process_counters.hpp"

namespace zc::bench {
namespace {

Side throughput_side(const std::string& method) {
  if (method.rfind("zcopy", 0) == 0) return Side::ours;
  if (method == "ceiling") return Side::baseline;
  return Side::peer;
}

Side latency_side(const std::string& method) {
  if (method.rfind("zcopy", 0) == 0) return Side::ours;
  if (method.rfind("floor", 0) == 0) return Side::baseline;
  return Side::peer;
}

// The ledger /proc/self/io gives for one measurement: the receiver is a child reaped inside it,
// and a reaped child's counts join its parent's. The counters also saw the warm-up, whose bytes
// the figures leave out: they are estimated at the measured rate.
MeasuredLedger ledger_of(const ProcessCounters& io, const ThroughputFigures& f,
                         const BenchTiming& timing) {
  const double rate = f.seconds > 0 ? static_cast<double>(f.bytes) / f.seconds : 0;
  const auto moved = static_cast<std::uint64_t>(rate * (timing.warmup_s + f.seconds));
  const std::uint64_t copied = std::min(io.read_bytes + io.write_bytes, 4 * moved);
  return {.bytes = moved,
          .bytes_zero_copy = copied >= moved ? 0 : moved - copied,
          .bytes_copied_user = 0,
          .bytes_copied_kernel = copied,
          .source = LedgerSource::proc_io};
}

// A method whose peer is missing here (iceoryx not installed, its peer program not built) is left
// out with the reason, once; any other failure fails the part.
template <typename Figures>
Result<bool> measured(const Result<Figures>& f, const std::string& method,
                      std::vector<std::string>& missing, PartOutput& out) {
  if (f) return true;
  if (f.error().code() != Errc::capability_missing)
    return std::unexpected(Error(f.error()).with_context("channel " + method));
  if (std::find(missing.begin(), missing.end(), method) == missing.end()) {
    missing.push_back(method);
    out.notes.push_back(method + " is not measured: " + f.error().message());
  }
  return false;
}

}  // namespace

Result<PartOutput> run_channel_part(const SuiteConfig& c) {
  PartOutput out;
  std::vector<std::string> missing;
  const BenchTiming timing = c.full ? BenchTiming{.warmup_s = 0.25, .measure_s = 1.0}
                                    : BenchTiming{.warmup_s = 0.1, .measure_s = 0.25};
  const std::vector<std::uint64_t> sizes =
      c.full ? std::vector<std::uint64_t>{64, 4096, 65536, 1 << 20}
             : std::vector<std::uint64_t>{64, 65536, 1 << 20};
  for (const std::uint64_t size : sizes) {
    for (const std::string& method : throughput_methods()) {
      const ProcessCounters before = read_own_counters();
      auto f = measure_throughput(method, size, timing);
      auto ok = measured(f, method, missing, out);
      if (!ok) return std::unexpected(ok.error());
      if (!*ok) continue;
      const ProcessCounters io = read_own_counters() - before;
      Measurement m{.module = "channel",
                    .bench = "channel-throughput",
                    .method = method,
                    .side = throughput_side(method)};
      m.size_bytes = size;
      m.unit_note = "message";
      m.bytes_per_s = f->seconds > 0 ? static_cast<double>(f->bytes) / f->seconds : 0;
      m.ops_per_s = f->seconds > 0 ? static_cast<double>(f->messages) / f->seconds : 0;
      const double gb = static_cast<double>(f->bytes) / 1e9;
      if (gb > 0) m.cpu_total_s_per_gb = f->cpu_seconds / gb;
      m.cpu_of = "sender and receiver processes";
      if (io.io_readable && method != "ceiling") m.ledger = ledger_of(io, *f, timing);
      if (method == "boost-mq")
        m.note =
            "its copies into and out of the queue are made in user space, where "
            "/proc/PID/io does not see them";
      if (f->batch != 0)
        m.note = "loan_n/publish_n/receive_n in batches of " + std::to_string(f->batch);
      if (method == "iceoryx")
        m.note = "RouDi with one mempool sized for the message; queue of " +
                 std::to_string(f->queue) + ", no history";
      out.rows.push_back(m);
    }
  }
  for (const std::uint64_t size : sizes) {
    if (size > 4096) continue;
    for (const std::string& method : latency_methods()) {
      auto f = measure_latency(method, size, timing);
      auto ok = measured(f, method, missing, out);
      if (!ok) return std::unexpected(ok.error());
      if (!*ok) continue;
      Measurement m{.module = "channel",
                    .bench = "channel-latency",
                    .method = method,
                    .side = latency_side(method)};
      m.size_bytes = size;
      m.unit_note = "message; round trip between two processes";
      m.latency_p50_ns = f->p50_ns;
      m.latency_p99_ns = f->p99_ns;
      m.latency_p999_ns = f->p999_ns;
      m.latency_max_ns = f->max_ns;
      m.repetitions = static_cast<unsigned>(f->round_trips);
      out.rows.push_back(m);
    }
  }
  for (const std::string& method : death_methods()) {
    auto f = measure_death_detection(method, timing);
    if (!f) return std::unexpected(std::move(f.error()).with_context("channel " + method));
    Measurement m{
        .module = "channel", .bench = "channel-death", .method = method, .side = Side::ours};
    m.unit_note = "SIGKILL of one end until the other knows";
    m.latency_p50_ns = f->p50_ns;
    m.latency_p99_ns = f->p99_ns;
    m.latency_max_ns = f->max_ns;
    m.repetitions = static_cast<unsigned>(f->round_trips);
    out.rows.push_back(m);
  }
  return out;
}

}  // namespace zc::bench
