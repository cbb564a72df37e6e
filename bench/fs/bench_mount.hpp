// bench/fs/bench_mount.hpp: a mount in one named mode for a benchmark, served by the benchmark
// process itself, at SCRATCH/mnt-MODE.
#pragma once

#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/fs/mount.hpp"

namespace zc::bench {

// Mounts `source` in mode `mode_name`, with transport `transport_name` when it is not empty; a
// mode or transport that falls back is an error (capability_missing), an unknown one a usage
// error. `cache_seconds` is the mount's cache time (MountOptions). The mount point is
// SCRATCH/mnt-MODE or SCRATCH/mnt-MODE-TRANSPORT.
Result<fs::Mount> mount_for_bench(const std::string& source, const std::string& scratch,
                                  const std::string& mode_name,
                                  const std::string& transport_name = {},
                                  double cache_seconds = fs::MountOptions{}.cache_seconds);

// "MODE" or "MODE/TRANSPORT": the method a mount is reported as.
std::string mount_method(const std::string& mode_name, const std::string& transport_name);

}  // namespace zc::bench
