// zcopy mount bench: the mirror's modes against the native filesystem (and, as a working
// directory, libfuse's passthrough_ll) in one run: its options
// and its tables (the measuring is bench/fs/mount_bench.hpp and bench/fs/mount_workloads.hpp).
#include "bench/fs/mount_bench.hpp"

#include <cstdio>
#include <memory>

#include "bench/fs/mount_workloads.hpp"
#include "bench/support/stop_signals.hpp"
#include "command.hpp"
#include "options.hpp"
#include "zcopy/fs/mount.hpp"
#include "zcopy/fs/transport.hpp"

namespace zc::cli {
namespace {

struct MountBenchSettings {
  bench::MountBenchConfig config;
  bench::WorkloadConfig workloads;
  bool json = false;
  bool no_fio = false;
  bool no_reads = false;
  bool no_workloads = false;
  bool no_scratch_fs = false;
  bool no_peer = false;
};

CommandResult run(MountBenchSettings s) {
  s.config.fio = !s.no_fio;
  if (!s.no_reads) {
    auto rows = bench::run_mount_bench(s.config);
    if (!rows) return std::unexpected(rows.error());
    bench::describe(*rows, s.config).print(stdout, s.json);
  }
  if (!s.no_workloads) {
    s.workloads.fio = !s.no_fio;
    s.workloads.dir = s.config.dir;
    s.workloads.modes = s.config.modes;
    s.workloads.scratch_fs = !s.no_scratch_fs;
    s.workloads.peer = !s.no_peer;
    // Taken between two steps, so that the scratch file systems and mounts always go.
    bench::block_stop_signals();
    auto run = bench::run_mount_workloads(s.workloads);
    if (!run) return std::unexpected(run.error());
    if (!s.json) std::fputs("\n", stdout);
    bench::describe(*run, s.workloads).print(stdout, s.json);
  }
  return kExitOk;
}

}  // namespace

CommandRunner add_mount_bench_command(CLI::App& mount) {
  auto s = std::make_shared<MountBenchSettings>();
  bench::MountBenchConfig& c = s->config;
  CLI::App* bench = mount.add_subcommand(
      "bench",
      "Reads, and the mount as a working directory: each mode against native and libfuse's "
      "passthrough_ll (the working-directory steps on a fresh ext4 per method and repeat)");
  add_size_option(*bench, "--size", c.size, "Sequential-read file size (default 1G)", 1);
  add_size_option(*bench, "--fio-size", c.fio_size, "fio file size (default 256M)", 4 * kKiB);
  bench->add_option("--repeats", c.repeats, "Measured passes per method (default 5)")
      ->check(CLI::Range(1U, 1000U));
  bench->add_option("--fio-seconds", c.fio_seconds, "fio run time per method (default 3)")
      ->check(CLI::Range(1U, 3600U));
  bench->add_option("--dir", c.dir, "Where the scratch directory goes (default /tmp)");
  bench->add_option("--modes", c.modes, "Modes to measure (default passthrough,splice,copy)")
      ->delimiter(',')
      ->check(accepted_by(fs::mount_mode_from_name, "auto, passthrough, splice or copy"));
  bench
      ->add_option("--transports", s->workloads.transports,
                   "Transports each mode's workloads run on, e.g. dev,uring (default: auto)")
      ->delimiter(',')
      ->check(accepted_by(fs::mount_transport_from_name, "auto, uring or dev"));
  bench->add_flag("--no-fio", s->no_fio, "Skip the fio random-read and random-write runs");
  bench->add_flag("--no-reads", s->no_reads, "Skip the sequential and random reads");
  bench->add_flag("--no-workloads", s->no_workloads,
                  "Skip untar, stat, read-all, rm, 4 KiB writes and fio random writes");
  bench->add_flag("--no-scratch-fs", s->no_scratch_fs,
                  "Run the workloads in --dir's own file system, one tree for every method and "
                  "repeat, instead of a fresh ext4 (mkfs.ext4 on a loop device, like --dir's "
                  "file system) per method and repeat");
  bench::WorkloadConfig& w = s->workloads;
  bench->add_option("--tree", w.tree, "Tree untarred by the workloads (default /usr/share/doc)")
      ->check(CLI::ExistingDirectory);
  add_size_option(*bench, "--write-size", w.write_size,
                  "File rewritten 4 KiB at a time (default 64M)", 4 * kKiB);
  bench->add_option("--workload-repeats", w.repeats, "Runs per workload step (default 3)")
      ->check(CLI::Range(1U, 100U));
  bench
      ->add_option("--cache-timeout", w.cache_seconds,
                   "Each mount's --cache-timeout in the workloads (default 1)")
      ->check(CLI::Range(0.0, 86400.0));
  bench->add_flag(
      "--no-peer", s->no_peer,
      "Leave out libfuse's passthrough_ll example, otherwise built from --fuse-examples "
      "and run beside the modes in the workloads");
  bench->add_option("--fuse-examples", w.fuse_examples,
                    "Where libfuse's example sources are (default "
                    "/usr/share/doc/libfuse3-dev/examples); without passthrough_ll.c the peer is "
                    "skipped, with the reason");
  bench->add_flag("--json", s->json, "One JSON record per line instead of a table");
  return [s]() -> CommandResult { return run(*s); };
}

}  // namespace zc::cli
