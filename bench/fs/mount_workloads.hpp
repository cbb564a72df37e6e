// bench/fs/mount_workloads.hpp: the mirror used as a working directory, against the native file
// system, in one run: untar a tree, stat every entry, read every file back, remove the tree,
// 4 KiB writes into an existing file, and fio 4 KiB random writes; beside them libfuse's own
// passthrough_ll example as a peer (bench/fs/fuse_peer.hpp). The page cache is dropped before each
// step (as root; otherwise the report says it was not), each step is the median of `repeats`, and
// for each of our mounts the daemon's requests per operation are counted (not the peer's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/fs/fuse_peer.hpp"
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
  // libfuse's passthrough_ll as one more method, built from `fuse_examples`; skipped with the
  // reason in the report where it cannot be built.
  bool peer = true;
  std::string fuse_examples = kFuseExamplesDir;
};

struct WorkloadFigure {
  std::string workload{};  // untar, stat, read-all, rm, write-4k, fio-randwrite-4k
  std::string method{};    // "native", the modes (MODE/TRANSPORT with transports), passthrough_ll
  double seconds = 0;      // median
  double spread = 0;
  std::vector<double> samples{};            // each repeat's seconds, in order
  std::uint64_t operations = 0;             // entries, writes, or fio I/Os per second (fio)
  std::optional<double> requests_per_op{};  // through one of our mounts
  // The same by request ("LOOKUP 1.00, CREATE 1.00"), those of at least 0.01 per operation.
  std::string requests_by_operation{};
};

struct WorkloadRun {
  std::vector<WorkloadFigure> figures;
  bool caches_dropped = false;
  std::string file_system{};   // where the steps ran, for the report
  std::string peer{};          // how passthrough_ll was built and run, when it was
  std::string peer_skipped{};  // why it was not, when asked for
};

// Each repeat runs native, then each mode (and transport), then the peer, each from the same
// starting state when `scratch_fs`. SIGINT and SIGTERM must be blocked by the caller
// (block_stop_signals): either ends the run between two steps with an error ("interrupted"), the
// file systems and mounts taken down.
Result<WorkloadRun> run_mount_workloads(const WorkloadConfig& config);

// mount-<workload> records, and a table of each workload against native and, when it ran, the
// peer; a mount-peer record with the reason when the peer was skipped.
Report describe(const WorkloadRun& run, const WorkloadConfig& config);

}  // namespace zc::bench
