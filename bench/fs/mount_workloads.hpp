// bench/fs/mount_workloads.hpp: the mirror used as a working directory, against the native file
// system, in one run: untar a tree, stat every entry, read every file back, remove the tree,
// 4 KiB writes into an existing file, and fio 4 KiB random writes. The page cache is dropped
// before each step (as root; otherwise the report says it was not), each step is the median of
// `repeats`, and for each mount the daemon's requests per operation are counted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/support/report.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/fs/mount.hpp"

namespace zc::bench {

struct WorkloadConfig {
  std::string tree = "/usr/share/doc";   // archived once, then untarred by every method
  std::uint64_t write_size = 64 * kMiB;  // the existing file the 4 KiB writes go into
  std::uint64_t fio_size = 64 * kMiB;
  unsigned fio_seconds = 3;
  unsigned repeats = 3;
  std::string dir = "/tmp";  // where the scratch directory goes
  // Each method and repeat on a fresh ext4 (bench/fs/scratch_fs.hpp) made in `dir`; otherwise
  // in `dir`'s own file system, which then carries each step's leftovers into the next.
  bool scratch_fs = true;
  std::vector<std::string> modes{"passthrough", "splice", "copy"};
  // Each mode once per transport ("dev", "uring"); empty: each mode once, transport auto.
  std::vector<std::string> transports{};
  bool fio = true;
  double cache_seconds = fs::MountOptions{}.cache_seconds;  // each mount's --cache-timeout
};

struct WorkloadFigure {
  std::string workload{};  // untar, stat, read-all, rm, write-4k, fio-randwrite-4k
  std::string method{};    // "native", then the modes (MODE/TRANSPORT with transports)
  double seconds = 0;      // median
  double spread = 0;
  std::vector<double> samples{};            // each repeat's seconds, in order
  std::uint64_t operations = 0;             // entries, writes, or fio I/Os per second (fio)
  std::optional<double> requests_per_op{};  // through a mount
  // The same by request ("LOOKUP 1.00, CREATE 1.00"), those of at least 0.01 per operation.
  std::string requests_by_operation{};
};

struct WorkloadRun {
  std::vector<WorkloadFigure> figures;
  bool caches_dropped = false;
  std::string file_system{};  // where the steps ran, for the report
};

// Each repeat runs native, then each mode (and transport), each from the same starting state when
// `scratch_fs`. SIGINT and SIGTERM must be blocked by the caller (block_stop_signals): either ends
// the run between two steps with an error ("interrupted"), the file systems and mounts taken down.
Result<WorkloadRun> run_mount_workloads(const WorkloadConfig& config);

// mount-<workload> records, and a table of each workload against native.
Report describe(const WorkloadRun& run, const WorkloadConfig& config);

}  // namespace zc::bench
