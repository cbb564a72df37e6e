// tools/zcopy/mount_bench.hpp: `zcopy mount bench`, the mirror's modes against the native
// filesystem in one run: its options and its table (the measuring is bench/fs/mount_bench.hpp).
#pragma once

#include "command.hpp"

namespace zc::cli {

// Adds the `bench` subcommand to `mount` and returns its runner.
CommandRunner add_mount_bench_command(CLI::App& mount);

}  // namespace zc::cli
