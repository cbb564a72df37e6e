#include "bench/suite/measurement.hpp"

namespace zc::bench {

const char* to_string(Side side) noexcept {
  switch (side) {
    case Side::ours:
      return "ours";
    case Side::peer:
      return "peer";
    case Side::baseline:
      return "baseline";
  }
  return "ours";
}

const char* to_string(LedgerSource source) noexcept {
  return source == LedgerSource::own ? "own" : "proc-io";
}

MeasuredCounters MeasuredCounters::from(const ProcessCounters& used) noexcept {
  return {.minor_faults = used.minor_faults,
          .context_switches = used.voluntary_switches + used.involuntary_switches,
          .syscalls_read_write = used.read_calls + used.write_calls,
          .read_bytes = used.read_bytes,
          .write_bytes = used.write_bytes};
}

double MeasuredLedger::copies_per_byte() const noexcept {
  if (bytes == 0) return 0;
  return static_cast<double>(bytes_copied_user + bytes_copied_kernel) / static_cast<double>(bytes);
}

std::optional<double> Measurement::cpu_s_per_gb() const noexcept {
  if (!cpu_user_s_per_gb && !cpu_system_s_per_gb) return cpu_total_s_per_gb;
  return cpu_user_s_per_gb.value_or(0) + cpu_system_s_per_gb.value_or(0);
}

const char* Measurement::main_figure() const noexcept {
  if (bytes_per_s) return "bytes_per_s";
  if (ops_per_s) return "ops_per_s";
  if (latency_p50_ns) return "latency_p50_ns";
  return "";
}

std::optional<double> Measurement::main_value() const noexcept {
  if (bytes_per_s) return bytes_per_s;
  if (ops_per_s) return ops_per_s;
  return latency_p50_ns;
}

bool Measurement::higher_is_better() const noexcept {
  return bytes_per_s.has_value() || ops_per_s.has_value();
}

JsonRecord Measurement::record() const {
  JsonRecord r = bench_record(bench, method, size_bytes);
  r.add("module", module).add("side", to_string(side));
  if (!unit_note.empty()) r.add("size_of", unit_note);
  auto optional = [&r](const char* key, const std::optional<double>& value) {
    if (value) r.add(key, *value);
  };
  optional("bytes_per_s", bytes_per_s);
  optional("ops_per_s", ops_per_s);
  optional("latency_p50_ns", latency_p50_ns);
  optional("latency_p99_ns", latency_p99_ns);
  optional("latency_p999_ns", latency_p999_ns);
  optional("latency_max_ns", latency_max_ns);
  optional("memory_per_connection_bytes", memory_per_connection_bytes);
  optional("connections", connections);
  optional("cpu_s_per_gb", cpu_s_per_gb());
  optional("cpu_user_s_per_gb", cpu_user_s_per_gb);
  optional("cpu_system_s_per_gb", cpu_system_s_per_gb);
  optional("softirq_s_per_gb", softirq_s_per_gb);
  if (!cpu_of.empty()) r.add("cpu_of", cpu_of);
  if (ledger) {
    r.add("ledger_source", to_string(ledger->source))
        .add("ledger_bytes", ledger->bytes)
        .add("bytes_zero_copy", ledger->bytes_zero_copy)
        .add("bytes_copied", ledger->bytes_copied_user + ledger->bytes_copied_kernel)
        .add("bytes_copied_user", ledger->bytes_copied_user)
        .add("bytes_copied_kernel", ledger->bytes_copied_kernel)
        .add("copies_per_byte", ledger->copies_per_byte());
  }
  if (counters) {
    r.add("minor_faults", counters->minor_faults)
        .add("context_switches", counters->context_switches)
        .add("read_write_calls", counters->syscalls_read_write)
        .add("io_read_bytes", counters->read_bytes)
        .add("io_write_bytes", counters->write_bytes);
  }
  r.add("repetitions", static_cast<std::uint64_t>(repetitions)).add("spread", spread);
  if (!note.empty()) r.add("note", note);
  r.add("main_figure", main_figure());
  if (!versus.empty()) r.add("versus", versus);
  optional("versus_ratio", versus_ratio);
  r.add("ledger_check", verdict.status).add("ledger_check_detail", verdict.reason);
  if (verdict.status != "not checked") {
    r.add("claimed_copy_cpu_s_per_gb", verdict.claimed_copy_cpu_s_per_gb)
        .add("measured_cpu_s_per_gb", verdict.measured_cpu_s_per_gb)
        .add("explained_cpu_s_per_gb", verdict.explained_cpu_s_per_gb);
  }
  return r;
}

}  // namespace zc::bench
