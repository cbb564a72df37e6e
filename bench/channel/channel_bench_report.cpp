// `zcopy channel bench`: every method at every size, as a table per section and one JSON record
// per measurement (zcopy/core/json_record.hpp).
#include <algorithm>
#include <string>
#include <thread>

#include "bench/channel/channel_bench.hpp"
#include "bench/support/table.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {
namespace {

constexpr std::uint64_t kLatencyMaxSize = 4 * 1024;

// What each method copies with a CPU, per payload byte moved.
std::uint64_t copies_per_byte(const std::string& method) {
  return method == "unix" || method == "pipe" || method == "boost-mq" ? 2 : 0;
}

// A method that cannot run here: its record says why instead of carrying figures.
JsonRecord skipped_record(const char* bench, const std::string& method, std::uint64_t size,
                          const Error& why) {
  JsonRecord r = bench_record(bench, method, size);
  r.add("skipped", why.message());
  return r;
}

}  // namespace

Result<Report> run_channel_bench(const ChannelBenchConfig& config,
                                 const std::function<void(const JsonRecord&)>& measured) {
  Report out;
  auto add = [&](const JsonRecord& record) {
    out.records.push_back(record);
    if (measured) measured(record);
  };
  const BenchTiming timing{.warmup_s = std::min(0.25, config.seconds / 2),
                           .measure_s = config.seconds};
  Table throughput({"size", "method", "rate", "msg/s", "CPU s/GB", "vs ceiling", "copied/msg"});
  for (const std::uint64_t size : config.sizes) {
    double ceiling_rate = 0;
    for (const std::string& method : throughput_methods()) {
      auto f = measure_throughput(method, size, timing);
      if (!f && f.error().code() == Errc::capability_missing) {
        add(skipped_record("channel-throughput", method, size, f.error()));
        throughput.add_row({format_bytes(size), method, "skipped: " + f.error().message()});
        continue;
      }
      if (!f) return std::unexpected(std::move(f.error()).with_context("channel bench " + method));
      const double rate = f->seconds > 0 ? static_cast<double>(f->bytes) / f->seconds : 0;
      const double ops = f->seconds > 0 ? static_cast<double>(f->messages) / f->seconds : 0;
      const double gb = static_cast<double>(f->bytes) / 1e9;
      const double cpu_per_gb = gb > 0 ? f->cpu_seconds / gb : 0;
      if (method == "ceiling") ceiling_rate = rate;
      const std::uint64_t copied = copies_per_byte(method) * f->bytes;
      JsonRecord r = bench_record("channel-throughput", method, size);
      r.add("bytes_per_s", rate)
          .add("ops_per_s", ops)
          .add("cpu_s_per_gb", cpu_per_gb)
          .add("bytes_zero_copy", copied == 0 ? f->bytes : std::uint64_t{0})
          .add("bytes_copied", copied)
          .add("messages", f->messages)
          .add("seconds", f->seconds);
      if (method == "boost-mq") {
        r.add("chunk_bytes", f->chunk_bytes).add("chunked", f->chunk_bytes < size);
      }
      if (f->batch != 0) r.add("batch", f->batch);
      if (f->queue != 0) r.add("queue", f->queue);
      if (!f->fences.empty()) r.add("fences", f->fences);
      if (method == "iceoryx") r.add("history", std::uint64_t{0});
      add(r);
      std::string note = format_bytes(copies_per_byte(method) * size);
      if (method == "boost-mq" && f->chunk_bytes < size)
        note += " (in " + format_bytes(f->chunk_bytes) + " chunks)";
      if (f->batch != 0) note += " (batches of " + std::to_string(f->batch) + ")";
      // Only the fallback is worth a word: publish() then pays a full fence per message.
      if (!f->fences.empty() && f->fences != "membarrier") note += " (fences: " + f->fences + ")";
      throughput.add_row({format_bytes(size), method, format_rate(rate), fixed(ops, 0),
                          fixed(cpu_per_gb, 3),
                          ceiling_rate > 0 ? fixed(rate / ceiling_rate, 2) + "x" : "-", note});
    }
  }
  out.text = "Throughput (publisher and subscriber in two processes; ceiling: two threads)\n" +
             throughput.str();

  Table latency({"size", "method", "p50", "p99", "p99.9", "max", "round trips"});
  for (const std::uint64_t size : config.sizes) {
    if (size > kLatencyMaxSize) continue;
    for (const std::string& method : latency_methods()) {
      auto f = measure_latency(method, size, timing);
      if (!f && f.error().code() == Errc::capability_missing) {
        add(skipped_record("channel-latency", method, size, f.error()));
        latency.add_row({format_bytes(size), method, "skipped: " + f.error().message()});
        continue;
      }
      if (!f) return std::unexpected(std::move(f.error()).with_context("channel bench " + method));
      JsonRecord r = bench_record("channel-latency", method, size);
      r.add("latency_p50_ns", f->p50_ns)
          .add("latency_p99_ns", f->p99_ns)
          .add("latency_p999_ns", f->p999_ns)
          .add("latency_max_ns", f->max_ns)
          .add("ops_per_s", static_cast<double>(f->round_trips) / timing.measure_s)
          .add("round_trips", f->round_trips);
      if (f->queue != 0) r.add("queue", f->queue).add("history", std::uint64_t{0});
      add(r);
      latency.add_row({format_bytes(size), method, format_nanos(f->p50_ns), format_nanos(f->p99_ns),
                       format_nanos(f->p999_ns), format_nanos(f->max_ns),
                       std::to_string(f->round_trips)});
    }
  }
  out.text +=
      "\nRound trip, two processes ping-ponging (zcopy: two channels, one each way; "
      "floor: one line per hop, floor-2line: a line naming a second one)\n" +
      latency.str();

  // Fan-out at the smallest size, where the publisher's per-subscriber work weighs most. The
  // bound: with every process needing the CPU per message it needed with one subscriber, N
  // subscribers and the publisher share the machine's CPUs, at most cpus / (N + 1) of the rate
  // with one (and never above it).
  const double cpus = std::max(1U, std::thread::hardware_concurrency());
  Table fan_out({"size", "method", "subscribers", "msg/s", "vs one", "bound", "publisher CPU",
                 "CPU/subscriber"});
  if (!config.sizes.empty()) {
    const std::uint64_t size = *std::min_element(config.sizes.begin(), config.sizes.end());
    for (const bool batches : {false, true}) {
      const std::string method = batches ? "zcopy-batch" : "zcopy";
      double one = 0;
      for (const std::size_t subscribers : kFanOutCounts) {
        auto f = measure_fan_out(subscribers, size, timing, batches);
        if (!f) return std::unexpected(std::move(f.error()).with_context("channel bench fan-out"));
        if (subscribers == 1) one = f->rate;
        const double bound = std::min(1.0, cpus / static_cast<double>(subscribers + 1));
        JsonRecord r = bench_record("channel-fan-out", method, size);
        r.add("subscribers", static_cast<std::uint64_t>(subscribers))
            .add("ops_per_s", f->rate)
            .add("vs_one_subscriber", one > 0 ? f->rate / one : 0.0)
            .add("cpu_bound_vs_one", bound)
            .add("cpus", cpus)
            .add("publisher_cpu", f->publisher_cpu)
            .add("cpu_per_subscriber", f->subscriber_cpu);
        if (f->batch != 0) r.add("batch", static_cast<std::uint64_t>(f->batch));
        add(r);
        fan_out.add_row({format_bytes(size), method, std::to_string(subscribers), fixed(f->rate, 0),
                         one > 0 ? fixed(f->rate / one, 2) + "x" : "-", fixed(bound, 2) + "x",
                         fixed(f->publisher_cpu, 2), fixed(f->subscriber_cpu, 2)});
      }
    }
  }
  out.text +=
      "\nFan-out, one publisher and N subscriber processes each reading every byte (bound: " +
      fixed(cpus, 0) + " CPUs shared by N + 1 processes)\n" + fan_out.str();

  Table death({"method", "p50", "p99", "max", "kills"});
  for (const std::string& method : death_methods()) {
    auto f = measure_death_detection(method, timing);
    if (!f) return std::unexpected(std::move(f.error()).with_context("channel bench " + method));
    JsonRecord r = bench_record("channel-death", method, 0);
    r.add("latency_p50_ns", f->p50_ns)
        .add("latency_p99_ns", f->p99_ns)
        .add("latency_max_ns", f->max_ns)
        .add("kills", f->round_trips);
    add(r);
    death.add_row({method, format_nanos(f->p50_ns), format_nanos(f->p99_ns),
                   format_nanos(f->max_ns), std::to_string(f->round_trips)});
  }
  out.text += "\nDeath detection, SIGKILL of one end until the other knows\n" + death.str();
  return out;
}

}  // namespace zc::bench
