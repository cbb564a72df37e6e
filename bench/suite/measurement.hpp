// bench/suite/measurement.hpp: one figure of `zcopy bench`, whatever module measured it: what was
// measured (module, bench, method, ours or a peer, size), how fast, what CPU it cost split into
// user, system and softirq, the copy ledger as the measured process reported it, and the verdict
// of the ledger check. results.json holds one such record per measurement
// (bench/report/results.schema.json).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/support/process_counters.hpp"
#include "zcopy/core/json_record.hpp"

namespace zc::bench {

// Who a row measures: our code, a real peer program to compare with, or a baseline (a forced
// copy method of ours, a ceiling without any transport) that explains the others.
enum class Side { ours, peer, baseline };
const char* to_string(Side side) noexcept;

// Where a ledger came from. own: the measured code's own counters (a TransferLedger, reported
// over --ledger-json or returned in-process); proc_io: /proc/PID/io of the measured process,
// which counts read()/write() bytes but not recv() nor copies in user space, so only a lower
// bound on its copies.
enum class LedgerSource { own, proc_io };
const char* to_string(LedgerSource source) noexcept;

struct MeasuredLedger {
  std::uint64_t bytes = 0;
  std::uint64_t bytes_zero_copy = 0;
  std::uint64_t bytes_copied_user = 0;
  std::uint64_t bytes_copied_kernel = 0;
  LedgerSource source = LedgerSource::own;
  double copies_per_byte() const noexcept;
};

// Kernel counters of the measured process over the measured work (process_counters.hpp).
struct MeasuredCounters {
  std::uint64_t minor_faults = 0;
  std::uint64_t context_switches = 0;
  std::uint64_t syscalls_read_write = 0;  // syscr + syscw
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;

  static MeasuredCounters from(const ProcessCounters& used) noexcept;
};

// The ledger check's verdict on one row (ledger_check.hpp).
struct LedgerVerdict {
  std::string status = "not checked";    // "agrees", "disagrees", "not checked"
  std::string reason{};                  // the figures behind it, or why it was not checked
  double claimed_copy_cpu_s_per_gb = 0;  // the claimed copies at the measured cost of a copy
  double measured_cpu_s_per_gb = 0;
  double explained_cpu_s_per_gb = 0;  // copies + transport floor + system calls
};

struct Measurement {
  std::string module;  // mem, ring, frame, channel, net, xdp, serve, get, get-sources, mount, ...
  std::string bench;   // serve-loopback, ring-spsc, ...
  std::string method;  // sendfile, nginx, boost-lockfree, ...
  Side side = Side::ours;
  std::uint64_t size_bytes = 0;
  std::string unit_note{};  // what size_bytes is when it is not a transfer (a message, a buffer)

  std::optional<double> bytes_per_s{};
  std::optional<double> ops_per_s{};
  std::optional<double> latency_p50_ns{}, latency_p99_ns{}, latency_p999_ns{}, latency_max_ns{};
  std::optional<double> memory_per_connection_bytes{};
  std::optional<double> connections{};

  // CPU of the measured process per 10^9 payload bytes; softirq on the CPU it ran on.
  std::optional<double> cpu_user_s_per_gb{}, cpu_system_s_per_gb{}, softirq_s_per_gb{};
  std::optional<double> cpu_total_s_per_gb{};  // where user and system were not told apart
  std::string cpu_of{};  // whose CPU: "server process", "sender and receiver", ...

  std::optional<MeasuredLedger> ledger{};
  std::optional<MeasuredCounters> counters{};
  unsigned repetitions = 1;
  double spread = 0;  // (max - min) / median of the repetitions' main figure
  std::string note{};

  // Filled by the suite: the best peer row of the same bench and size, and this row against it
  // (> 1 is better than the peer, whatever the figure's direction).
  std::string versus{};
  std::optional<double> versus_ratio{};
  LedgerVerdict verdict{};

  std::optional<double> cpu_s_per_gb() const noexcept;
  // The figure rows are compared by: throughput, else operations per second, else p50 latency.
  const char* main_figure() const noexcept;
  std::optional<double> main_value() const noexcept;
  bool higher_is_better() const noexcept;

  JsonRecord record() const;
};

}  // namespace zc::bench
