// zcopy mount bench: sequential read of a hot file and fio 4 KiB random-read IOPS, natively and
// through the mirror in each mode, in one run. The mounts are served by this process, so its
// CPU time (getrusage) covers the reader and the daemon together.
#include "mount_bench.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "options.hpp"
#include "table.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/fs/mount.hpp"

extern char** environ;

namespace zc::cli {
namespace {

struct MountBenchSettings {
  std::uint64_t size = kGiB;
  std::uint64_t fio_size = 256 * kMiB;
  unsigned repeats = 5;
  unsigned fio_seconds = 3;
  std::string dir = "/tmp";
  std::vector<std::string> modes{"passthrough", "splice", "copy"};
  bool json = false;
  bool no_fio = false;
};

double cpu_seconds() {
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

Result<void> write_file(const std::string& path, std::uint64_t size) {
  auto fd = Fd::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!fd) return std::unexpected(fd.error());
  std::vector<char> block(kMiB);
  for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 131 + 7);
  for (std::uint64_t done = 0; done < size;) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), size - done));
    auto w = sys_call({"write", fd->get()}, [&] { return ::write(fd->get(), block.data(), n); });
    if (!w) return std::unexpected(w.error());
    done += static_cast<std::uint64_t>(*w);
  }
  // Written back before measuring, so no method pays for another's writeback.
  if (auto rc = sys_call({"fsync", fd->get()}, [&] { return ::fsync(fd->get()); }); !rc) {
    return std::unexpected(rc.error());
  }
  return {};
}

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

struct SeqFigures {
  double bytes_per_s = 0;
  double cpu_s_per_gb = 0;
};

Result<SeqFigures> sequential(const std::string& path, std::uint64_t size, unsigned repeats) {
  std::vector<char> buffer(kMiB);
  if (auto warm = read_through(path, buffer); !warm) return std::unexpected(warm.error());
  std::vector<double> rates, cpu;
  for (unsigned i = 0; i < repeats; ++i) {
    const double cpu0 = cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    auto n = read_through(path, buffer);
    if (!n) return std::unexpected(n.error());
    if (*n != size) return fail(Errc::corrupt, "read " + path, "short file");
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(size) / wall);
    cpu.push_back((cpu_seconds() - cpu0) / (static_cast<double>(size) / 1e9));
  }
  return SeqFigures{median(rates), median(cpu)};
}

// fio 4 KiB random reads (psync, buffered) for `seconds`; returns IOPS.
Result<double> fio_iops(const std::string& file, std::uint64_t size, unsigned seconds,
                        const std::string& out_path) {
  std::vector<std::string> args{"fio",
                                "--name=randread",
                                "--filename=" + file,
                                "--rw=randread",
                                "--bs=4k",
                                "--size=" + std::to_string(size),
                                "--ioengine=psync",
                                "--time_based",
                                "--invalidate=0",
                                "--runtime=" + std::to_string(seconds),
                                "--ramp_time=1",
                                "--output-format=json",
                                "--output=" + out_path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (const int rc = ::posix_spawnp(&pid, "fio", nullptr, nullptr, argv.data(), environ); rc != 0) {
    return fail_errno(rc, "posix_spawnp(fio)", "install fio (scripts/install-deps.sh)");
  }
  int status = 0;
  if (auto w = sys_call("waitpid", [&] { return ::waitpid(pid, &status, 0); }); !w) {
    return std::unexpected(w.error());
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fail(Errc::system, "fio " + file, "fio failed");
  }
  std::FILE* f = std::fopen(out_path.c_str(), "re");
  if (f == nullptr) return fail_errno(errno, "fopen(" + out_path + ")");
  std::string text;
  char chunk[4096];
  while (std::size_t n = std::fread(chunk, 1, sizeof chunk, f)) text.append(chunk, n);
  std::fclose(f);
  // The first "iops" key is jobs[0].read.iops.
  const auto at = text.find("\"iops\"");
  const auto colon = at == std::string::npos ? at : text.find(':', at);
  if (colon == std::string::npos) return fail(Errc::corrupt, "fio output", "no iops field");
  return std::strtod(text.c_str() + colon + 1, nullptr);
}

struct Row {
  std::string method;
  SeqFigures seq;
  std::optional<double> iops;
};

Result<Row> measure(const std::string& method, const std::string& root, const MountBenchSettings& s,
                    const std::string& scratch) {
  Row row{method, {}, std::nullopt};
  auto seq = sequential(root + "/seq", s.size, s.repeats);
  if (!seq) return std::unexpected(std::move(seq.error()).with_context(method));
  row.seq = *seq;
  if (!s.no_fio) {
    // fio must not drop the page cache (--invalidate=0): every method reads a hot source.
    std::vector<char> buffer(kMiB);
    if (auto warm = read_through(root + "/rand", buffer); !warm) {
      return std::unexpected(warm.error());
    }
    auto iops = fio_iops(root + "/rand", s.fio_size, s.fio_seconds, scratch + "/fio.json");
    if (!iops) return std::unexpected(std::move(iops.error()).with_context(method));
    row.iops = *iops;
  }
  return row;
}

CommandResult run(const MountBenchSettings& s) {
  std::string pattern = s.dir + "/zcopy-mount-bench.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return fail_errno(errno, "mkdtemp(" + pattern + ")");
  const std::string scratch = pattern;
  struct Cleanup {
    std::string path;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } cleanup{scratch};
  const std::string source = scratch + "/src";
  std::filesystem::create_directory(source);
  if (auto w = write_file(source + "/seq", s.size); !w) return std::unexpected(w.error());
  if (!s.no_fio) {
    if (auto w = write_file(source + "/rand", s.fio_size); !w) return std::unexpected(w.error());
  }

  std::vector<Row> rows;
  auto native = measure("native", source, s, scratch);
  if (!native) return std::unexpected(native.error());
  rows.push_back(*native);
  for (const std::string& name : s.modes) {
    auto mode = fs::mount_mode_from_name(name);
    if (!mode) return usage_error("mount bench --modes " + name, "unknown mode");
    const std::string mountpoint = scratch + "/mnt-" + name;
    std::filesystem::create_directory(mountpoint);
    fs::MountOptions options;
    options.mode = *mode;
    auto mount = fs::Mount::start(source, mountpoint, options);
    if (!mount) return std::unexpected(mount.error());
    if (*mode != fs::MountMode::auto_select && mount->active_mode() != *mode) {
      return fail(Errc::capability_missing, "mount bench " + name, mount->fallback_reason());
    }
    auto row = measure(name, mountpoint, s, scratch);
    (void)mount->stop();
    if (!row) return std::unexpected(row.error());
    rows.push_back(*row);
  }

  const Row& base = rows.front();
  if (s.json) {
    for (const Row& r : rows) {
      JsonRecord seq = bench_record("mount-seq-read", r.method, s.size);
      seq.add("bytes_per_s", r.seq.bytes_per_s)
          .add("cpu_s_per_gb", r.seq.cpu_s_per_gb)
          .add("vs_native", r.seq.bytes_per_s / base.seq.bytes_per_s)
          .add("repeats", static_cast<std::uint64_t>(s.repeats));
      std::puts(seq.str().c_str());
      if (r.iops && base.iops) {
        JsonRecord rnd = bench_record("mount-fio-randread-4k", r.method, s.fio_size);
        rnd.add("ops_per_s", *r.iops).add("vs_native", *r.iops / *base.iops);
        std::puts(rnd.str().c_str());
      }
    }
    return kExitOk;
  }
  std::printf("sequential read of a hot %s file (1 MiB reads, median of %u after a warm-up)%s\n",
              format_bytes(s.size).c_str(), s.repeats,
              s.no_fio ? "" : "; fio 4 KiB psync random reads");
  Table table({"method", "MB/s", "vs native", "CPU s/GB", "randread IOPS", "vs native"});
  for (const Row& r : rows) {
    table.add_row({r.method, fixed(r.seq.bytes_per_s / 1e6, 0),
                   fixed(r.seq.bytes_per_s / base.seq.bytes_per_s, 2), fixed(r.seq.cpu_s_per_gb, 3),
                   r.iops ? fixed(*r.iops, 0) : "-",
                   r.iops && base.iops ? fixed(*r.iops / *base.iops, 2) : "-"});
  }
  table.print(stdout);
  return kExitOk;
}

}  // namespace

CommandRunner add_mount_bench_command(CLI::App& mount) {
  auto s = std::make_shared<MountBenchSettings>();
  CLI::App* bench =
      mount.add_subcommand("bench", "Sequential and fio random reads: each mode against native");
  add_size_option(*bench, "--size", s->size, "Sequential-read file size (default 1G)", 1);
  add_size_option(*bench, "--fio-size", s->fio_size, "fio file size (default 256M)", 4 * kKiB);
  bench->add_option("--repeats", s->repeats, "Measured passes per method (default 5)")
      ->check(CLI::Range(1U, 1000U));
  bench->add_option("--fio-seconds", s->fio_seconds, "fio run time per method (default 3)")
      ->check(CLI::Range(1U, 3600U));
  bench->add_option("--dir", s->dir, "Where the scratch directory goes (default /tmp)");
  bench->add_option("--modes", s->modes, "Modes to measure (default passthrough,splice,copy)")
      ->delimiter(',')
      ->check(accepted_by(fs::mount_mode_from_name, "auto, passthrough, splice or copy"));
  bench->add_flag("--no-fio", s->no_fio, "Skip the fio random-read runs");
  bench->add_flag("--json", s->json, "One JSON record per line instead of a table");
  return [s]() -> CommandResult { return run(*s); };
}

}  // namespace zc::cli
