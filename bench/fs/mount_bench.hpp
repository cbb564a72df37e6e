// bench/fs/mount_bench.hpp: the FUSE mirror's modes against the native filesystem, in one run:
// sequential reads of a hot file (1 MiB reads, median of `repeats` after a warm-up) and fio's
// 4 KiB psync random-read IOPS, natively and through a mount in each mode. The mounts are served
// by this process, so its CPU time (getrusage) covers the reader and the daemon together.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/support/report.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {

struct MountBenchConfig {
  std::uint64_t size = kGiB;
  std::uint64_t fio_size = 256 * kMiB;
  unsigned repeats = 5;
  unsigned fio_seconds = 3;
  std::string dir = "/tmp";  // where the scratch directory goes
  std::vector<std::string> modes{"passthrough", "splice", "copy"};
  bool fio = true;
};

struct MountFigures {
  std::string method{};  // "native", then the modes
  double bytes_per_s = 0;
  double cpu_s_per_gb = 0;
  double throughput_spread = 0;
  std::optional<double> iops{};  // fio random reads, when run
};

// Native first, then one row per mode. A mode that falls back is an error (capability_missing).
Result<std::vector<MountFigures>> run_mount_bench(const MountBenchConfig& config);

// mount-seq-read and mount-fio-randread-4k records and a table, each against native (the first).
Report describe(const std::vector<MountFigures>& rows, const MountBenchConfig& config);

}  // namespace zc::bench
