// bench/support/cpu_accounting.hpp: whose CPU a benchmark counts, and where things run.
//
// Our own process measures itself (process_cpu_time, getrusage); a child we reap reports its
// CPU through wait4 (Exit::cpu). A peer that keeps running, such as nginx and its workers, is read
// from /proc/PID/stat in clock ticks. Softirq time, the receive-side network work the kernel runs
// on whichever CPU sends, comes from /proc/stat per CPU.
//
//   const zc::bench::CpuPlan cpus = zc::bench::server_client_cpus();   // server 0, client 1
//   const double softirq_before = zc::bench::softirq_seconds(cpus.server);
#pragma once

#include <sys/types.h>

#include "zcopy/core/transfer_ledger.hpp"

namespace zc::bench {

// User and system time of another process (all its threads) from /proc/PID/stat; zero when it
// cannot be read.
CpuTime process_cpu(pid_t pid);
// The same for a process and its children (a server's master and workers).
CpuTime process_tree_cpu(pid_t pid);

// Seconds of softirq time on `cpu` (on all CPUs for -1) since boot, from /proc/stat.
double softirq_seconds(int cpu);

// Where a benchmark pins its server and its client: CPU 0 and CPU 1 when there are two, so the
// softirq time CPU 0 accrues during a transfer is the receive-side work the kernel runs inline in
// the sending server; nowhere (-1) on one CPU.
struct CpuPlan {
  int server = -1;
  int client = -1;
  bool pinned() const noexcept { return server >= 0; }
};
CpuPlan server_client_cpus();

}  // namespace zc::bench
