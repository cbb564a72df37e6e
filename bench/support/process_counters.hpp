// bench/support/process_counters.hpp: what the kernel counted for a process, read from /proc:
// CPU time, time spent waiting for a CPU, page faults, context switches, and the bytes and calls
// that went through read() and write() (/proc/PID/io). Measured, never modelled: a benchmark
// records the difference between two readings taken around the work.
//
//   const auto before = zc::bench::read_counters(server_pid, {.tree = true});
//   ... transfer ...
//   const auto used = zc::bench::read_counters(server_pid, {.tree = true}) - before;
//
// /proc/PID/io counts read(), write(), sendfile() and the like, but not socket receives by recv()
// nor splice(): a ledger built from it is a lower bound on the copies a process made.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "zcopy/core/transfer_ledger.hpp"

namespace zc::bench {

struct ProcessCounters {
  CpuTime cpu{};
  std::uint64_t minor_faults = 0;
  std::uint64_t major_faults = 0;
  std::uint64_t voluntary_switches = 0;
  std::uint64_t involuntary_switches = 0;
  std::uint64_t read_bytes = 0;   // rchar: bytes through read-like calls
  std::uint64_t write_bytes = 0;  // wchar: bytes through write-like calls
  std::uint64_t read_calls = 0;   // syscr
  std::uint64_t write_calls = 0;  // syscw
  double run_delay_s = 0;         // runnable but waiting for a CPU (schedstat), all threads
  std::uint64_t rss_bytes = 0;    // resident set now (not a difference: kept from the left side)
  bool io_readable = false;       // /proc/PID/io could be read (it needs ptrace access)

  // The work done between two readings; rss_bytes is this reading's.
  ProcessCounters operator-(const ProcessCounters& before) const noexcept;
};

struct CounterScope {
  bool tree = false;  // add the process's children (a server's workers)
};

// All zero (io_readable false) when the process is gone. "self" is this process.
ProcessCounters read_counters(pid_t pid, CounterScope scope = {});
ProcessCounters read_own_counters();

}  // namespace zc::bench
