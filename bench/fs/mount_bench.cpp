#include "bench/fs/mount_bench.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "bench/fs/bench_mount.hpp"
#include "bench/fs/fio_job.hpp"
#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "bench/support/stats.hpp"
#include "bench/support/table.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/fs/mount.hpp"

namespace zc::bench {
namespace {

// Reads `path` to the end once; returns the bytes read.
Result<std::uint64_t> read_through(const std::string& path, std::vector<char>& buffer) {
  auto fd = Fd::open(path, O_RDONLY);
  if (!fd) return std::unexpected(fd.error());
  std::uint64_t total = 0;
  for (;;) {
    auto n = sys_call({"read", fd->get()},
                      [&] { return ::read(fd->get(), buffer.data(), buffer.size()); });
    if (!n) return std::unexpected(n.error());
    if (*n == 0) return total;
    total += static_cast<std::uint64_t>(*n);
  }
}

Result<MountFigures> sequential(const std::string& path, std::uint64_t size, unsigned repeats) {
  std::vector<char> buffer(kMiB);
  if (auto warm = read_through(path, buffer); !warm) return std::unexpected(warm.error());
  std::vector<double> rates, cpu;
  for (unsigned i = 0; i < repeats; ++i) {
    const CpuStopwatch watch;
    auto n = read_through(path, buffer);
    if (!n) return std::unexpected(n.error());
    if (*n != size) return fail(Errc::corrupt, "read " + path, "short file");
    rates.push_back(static_cast<double>(size) / watch.wall_s());
    cpu.push_back(watch.cpu().total() / (static_cast<double>(size) / 1e9));
  }
  return MountFigures{.method = {},
                      .bytes_per_s = median(rates),
                      .cpu_s_per_gb = median(cpu),
                      .throughput_spread = spread(rates),
                      .iops = std::nullopt};
}

Result<MountFigures> measure(const std::string& method, const std::string& root,
                             const MountBenchConfig& c, const std::string& scratch) {
  auto row = sequential(root + "/seq", c.size, c.repeats);
  if (!row) return std::unexpected(std::move(row.error()).with_context(method));
  row->method = method;
  if (c.fio) {
    // fio must not drop the page cache (--invalidate=0): every method reads a hot source.
    std::vector<char> buffer(kMiB);
    if (auto warm = read_through(root + "/rand", buffer); !warm)
      return std::unexpected(warm.error());
    auto iops = run_fio({.file = root + "/rand",
                         .rw = "randread",
                         .size = c.fio_size,
                         .seconds = c.fio_seconds,
                         .output = scratch + "/fio.json",
                         .extra = {"--invalidate=0", "--ramp_time=1"}});
    if (!iops) return std::unexpected(std::move(iops.error()).with_context(method));
    row->iops = *iops;
  }
  return row;
}

}  // namespace

Result<std::vector<MountFigures>> run_mount_bench(const MountBenchConfig& c) {
  auto scratch = TempDir::create("zcopy-mount-bench", c.dir);
  if (!scratch) return std::unexpected(scratch.error());
  const std::string source = *scratch / "src";
  std::filesystem::create_directory(source);
  // Written back before measuring, so no method pays for another's writeback.
  if (auto w = write_random_file(source + "/seq", c.size, {.sync = true}); !w)
    return std::unexpected(w.error());
  if (c.fio) {
    if (auto w = write_random_file(source + "/rand", c.fio_size, {.seed = 2, .sync = true}); !w)
      return std::unexpected(w.error());
  }

  std::vector<MountFigures> rows;
  auto native = measure("native", source, c, scratch->path());
  if (!native) return std::unexpected(native.error());
  rows.push_back(*native);
  for (const std::string& name : c.modes) {
    auto mount = mount_for_bench(source, scratch->path(), name);
    if (!mount) return std::unexpected(mount.error());
    auto row = measure(name, *scratch / ("mnt-" + name), c, scratch->path());
    (void)mount->stop();
    if (!row) return std::unexpected(row.error());
    rows.push_back(*row);
  }
  return rows;
}

Report describe(const std::vector<MountFigures>& rows, const MountBenchConfig& c) {
  Report out;
  const MountFigures& base = rows.front();
  Table table({"method", "MB/s", "vs native", "CPU s/GB", "randread IOPS", "vs native"});
  for (const MountFigures& r : rows) {
    JsonRecord seq = bench_record("mount-seq-read", r.method, c.size);
    seq.add("bytes_per_s", r.bytes_per_s)
        .add("cpu_s_per_gb", r.cpu_s_per_gb)
        .add("vs_native", r.bytes_per_s / base.bytes_per_s)
        .add("throughput_spread", r.throughput_spread)
        .add("repeats", static_cast<std::uint64_t>(c.repeats));
    out.records.push_back(seq);
    if (r.iops && base.iops) {
      JsonRecord rnd = bench_record("mount-fio-randread-4k", r.method, c.fio_size);
      rnd.add("ops_per_s", *r.iops).add("vs_native", *r.iops / *base.iops);
      out.records.push_back(rnd);
    }
    table.add_row({r.method, fixed(r.bytes_per_s / 1e6, 0),
                   fixed(r.bytes_per_s / base.bytes_per_s, 2), fixed(r.cpu_s_per_gb, 3),
                   r.iops ? fixed(*r.iops, 0) : "-",
                   r.iops && base.iops ? fixed(*r.iops / *base.iops, 2) : "-"});
  }
  out.text = format_text(
      "sequential read of a hot %s file (1 MiB reads, median of %u after a warm-up)%s\n",
      format_bytes(c.size).c_str(), c.repeats, c.fio ? "; fio 4 KiB psync random reads" : "");
  out.text += table.str();
  return out;
}

}  // namespace zc::bench
