// The mount part: the mount bench (bench/fs) as it is: sequential reads of a hot file and fio's
// random reads, natively and through the mirror in each mode this machine supports.
#include "bench/fs/mount_bench.hpp"
#include "bench/suite/part.hpp"
#include "bench/support/process.hpp"
#include "zcopy/core/capabilities.hpp"

namespace zc::bench {

Result<PartOutput> run_mount_part(const SuiteConfig& c) {
  PartOutput out;
  if (const Probe& fuse = probe(Capability::fuse); !fuse.available)
    return fail(Errc::capability_missing, "mount bench", "needs FUSE: " + fuse.detail);
  MountBenchConfig config{.size = c.full ? kGiB : 64 * kMiB,
                          .fio_size = c.full ? 256 * kMiB : 16 * kMiB,
                          .repeats = c.full ? 3U : 1U,
                          .fio_seconds = c.full ? 3U : 1U};
  config.modes = {"splice", "copy"};
  if (const Probe& passthrough = probe(Capability::fuse_passthrough); passthrough.available)
    config.modes.insert(config.modes.begin(), "passthrough");
  else
    out.notes.push_back("passthrough not measured: " + passthrough.detail);
  config.fio = have_program("fio");
  if (!config.fio) out.notes.push_back("fio is not installed: no random-read rows");
  auto rows = run_mount_bench(config);
  if (!rows) return std::unexpected(rows.error());
  for (const MountFigures& r : *rows) {
    const Side side = r.method == "native" ? Side::peer
                      : r.method == "copy" ? Side::baseline
                                           : Side::ours;
    Measurement m{.module = "mount", .bench = "mount-seq-read", .method = r.method, .side = side};
    m.size_bytes = config.size;
    m.unit_note = "hot file, 1 MiB reads";
    m.bytes_per_s = r.bytes_per_s;
    m.cpu_total_s_per_gb = r.cpu_s_per_gb;
    m.cpu_of = "reader and mirror daemon (one process)";
    m.repetitions = config.repeats;
    m.spread = r.throughput_spread;
    out.rows.push_back(m);
    if (r.iops) {
      Measurement f{
          .module = "mount", .bench = "mount-fio-randread-4k", .method = r.method, .side = side};
      f.size_bytes = config.fio_size;
      f.unit_note = "file; fio 4 KiB psync random reads";
      f.ops_per_s = *r.iops;
      out.rows.push_back(f);
    }
  }
  out.notes.push_back("the mirror reports no copy ledger yet: its rows are not checked");
  return out;
}

}  // namespace zc::bench
