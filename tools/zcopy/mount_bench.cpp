#include "mount_bench.hpp"

#include <cstdio>
#include <memory>

#include "bench/fs/mount_bench.hpp"
#include "options.hpp"
#include "zcopy/fs/mount.hpp"

namespace zc::cli {
namespace {

struct MountBenchSettings {
  bench::MountBenchConfig config;
  bool json = false;
  bool no_fio = false;
};

CommandResult run(MountBenchSettings s) {
  s.config.fio = !s.no_fio;
  auto rows = bench::run_mount_bench(s.config);
  if (!rows) return std::unexpected(rows.error());
  bench::describe(*rows, s.config).print(stdout, s.json);
  return kExitOk;
}

}  // namespace

CommandRunner add_mount_bench_command(CLI::App& mount) {
  auto s = std::make_shared<MountBenchSettings>();
  bench::MountBenchConfig& c = s->config;
  CLI::App* bench =
      mount.add_subcommand("bench", "Sequential and fio random reads: each mode against native");
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
  bench->add_flag("--no-fio", s->no_fio, "Skip the fio random-read runs");
  bench->add_flag("--json", s->json, "One JSON record per line instead of a table");
  return [s]() -> CommandResult { return run(*s); };
}

}  // namespace zc::cli
