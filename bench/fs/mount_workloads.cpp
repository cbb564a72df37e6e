#include "bench/fs/mount_workloads.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>

#include "bench/fs/bench_mount.hpp"
#include "bench/fs/fio_job.hpp"
#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "bench/support/stats.hpp"
#include "bench/support/table.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/fs/mount.hpp"

namespace zc::bench {
namespace {

namespace stdfs = std::filesystem;

// Writes dirty pages back and empties the page, dentry and inode caches; false without root.
bool drop_caches() {
  ::sync();
  auto fd = Fd::open("/proc/sys/vm/drop_caches", O_WRONLY);
  return fd && ::write(fd->get(), "3", 1) == 1;
}

Result<void> run_tool(const std::vector<std::string>& argv) {
  auto tool = Process::spawn(argv, {.out = Output::null, .err = Output::inherit});
  if (!tool) return std::unexpected(tool.error());
  if (!tool->wait().ok()) return fail(Errc::system, argv.front() + " " + argv.back(), "failed");
  return {};
}

// Calls `visit` with the path and lstat of every entry beneath `root`; returns their number.
Result<std::uint64_t> walk(
    const std::string& root,
    const std::function<Result<void>(const std::string&, const struct stat&)>& visit) {
  std::uint64_t entries = 0;
  std::error_code ec;
  for (stdfs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string path = it->path().string();
    struct stat st {};
    auto got = sys_call("lstat", [&] { return ::lstat(path.c_str(), &st); });
    if (!got) return std::unexpected(std::move(got.error()).with_context(path));
    if (auto done = visit(path, st); !done) return std::unexpected(done.error());
    ++entries;
  }
  if (ec) return fail(Errc::system, "walk " + root, ec.message());
  return entries;
}

Result<void> read_file(const std::string& path, std::vector<char>& buffer) {
  auto fd = Fd::open(path, O_RDONLY);
  if (!fd) return std::unexpected(fd.error());
  for (;;) {
    auto n = sys_call({"read", fd->get()},
                      [&] { return ::read(fd->get(), buffer.data(), buffer.size()); });
    if (!n) return std::unexpected(n.error());
    if (*n == 0) return {};
  }
}

// 4 KiB writes over the whole existing file at `path`, in place, as dd conv=notrunc does.
Result<std::uint64_t> write_in_place(const std::string& path, std::uint64_t size) {
  auto fd = Fd::open(path, O_WRONLY);
  if (!fd) return std::unexpected(fd.error());
  const std::vector<char> block(4 * kKiB, 'w');
  std::uint64_t writes = 0;
  for (std::uint64_t at = 0; at < size; at += block.size(), ++writes) {
    auto n = sys_call({"pwrite", fd->get()}, [&] {
      return ::pwrite(fd->get(), block.data(), block.size(), static_cast<off_t>(at));
    });
    if (!n) return std::unexpected(n.error());
  }
  return writes;
}

class Measurer {
 public:
  Measurer(std::string method, const fs::Mount* mount)
      : method_(std::move(method)), mount_(mount) {}

  // Times `step` (which returns its number of operations) after dropping the caches.
  Result<void> time(const std::string& workload,
                    const std::function<Result<std::uint64_t>()>& step) {
    dropped_ = drop_caches();
    const std::uint64_t before = requests();
    const auto before_by_operation = by_operation();
    const auto start = std::chrono::steady_clock::now();
    auto operations = step();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!operations) return std::unexpected(std::move(operations.error()).with_context(workload));
    Samples& s = samples_[workload];
    s.seconds.push_back(seconds);
    s.operations = *operations;
    s.requests += requests() - before;
    const auto after_by_operation = by_operation();
    for (std::size_t i = 0; i < fs::kMountOperations; ++i) {
      s.by_operation[i] += after_by_operation[i] - before_by_operation[i];
    }
    ++s.runs;
    return {};
  }

  void add_to(std::vector<WorkloadFigure>& figures) const {
    for (const char* workload : {"untar", "stat", "read-all", "rm", "write-4k"}) {
      auto it = samples_.find(workload);
      if (it == samples_.end()) continue;
      const Samples& s = it->second;
      WorkloadFigure f{.workload = workload,
                       .method = method_,
                       .seconds = median(s.seconds),
                       .spread = spread(s.seconds),
                       .operations = s.operations};
      if (mount_ != nullptr && s.operations > 0) {
        const auto per_op = [&](std::uint64_t count) {
          return static_cast<double>(count) / static_cast<double>(s.operations * s.runs);
        };
        f.requests_per_op = per_op(s.requests);
        for (std::size_t i = 0; i < fs::kMountOperations; ++i) {
          if (per_op(s.by_operation[i]) < 0.005) continue;
          if (!f.requests_by_operation.empty()) f.requests_by_operation += ", ";
          f.requests_by_operation += std::string(fs::to_string(static_cast<fs::MountOperation>(i)));
          f.requests_by_operation += " " + fixed(per_op(s.by_operation[i]), 2);
        }
      }
      figures.push_back(f);
    }
  }

  // For a step whose operations are counted after it ran.
  void set_operations(const std::string& workload, std::uint64_t operations) {
    samples_[workload].operations = operations;
  }

  std::uint64_t requests() const { return mount_ != nullptr ? mount_->stats().requests : 0; }
  std::array<std::uint64_t, fs::kMountOperations> by_operation() const {
    return mount_ != nullptr ? mount_->stats().by_operation
                             : std::array<std::uint64_t, fs::kMountOperations>{};
  }
  bool caches_dropped() const { return dropped_; }

 private:
  struct Samples {
    std::vector<double> seconds;
    std::uint64_t operations = 0;
    std::uint64_t requests = 0;
    std::array<std::uint64_t, fs::kMountOperations> by_operation{};
    unsigned runs = 0;
  };
  std::string method_;
  const fs::Mount* mount_;
  std::map<std::string, Samples> samples_;
  bool dropped_ = false;
};

Result<bool> measure(const std::string& method, const std::string& root, const fs::Mount* mount,
                     const WorkloadConfig& c, const std::string& archive,
                     const std::string& scratch, std::vector<WorkloadFigure>& figures) {
  Measurer m(method, mount);
  const std::string tree = root + "/tree";
  std::vector<char> buffer(kMiB);
  auto no_visit = [](const std::string&, const struct stat&) -> Result<void> { return {}; };
  auto entries = [&]() { return walk(tree, no_visit); };
  for (unsigned r = 0; r < c.repeats; ++r) {
    std::error_code ec;
    stdfs::create_directory(tree, ec);
    if (ec) return fail(Errc::system, "mkdir " + tree, ec.message());
    auto untar = m.time("untar", [&]() -> Result<std::uint64_t> {
      if (auto done = run_tool({"tar", "-xf", archive, "-C", tree}); !done)
        return std::unexpected(done.error());
      return 0;  // counted below, untimed
    });
    if (!untar) return std::unexpected(untar.error());
    auto counted = entries();
    if (!counted) return std::unexpected(counted.error());
    m.set_operations("untar", *counted);
    auto stat = m.time("stat", entries);
    if (!stat) return std::unexpected(stat.error());
    auto read = m.time("read-all", [&] {
      return walk(tree, [&](const std::string& path, const struct stat& st) -> Result<void> {
        return S_ISREG(st.st_mode) ? read_file(path, buffer) : Result<void>{};
      });
    });
    if (!read) return std::unexpected(read.error());
    auto removed = m.time("rm", [&]() -> Result<std::uint64_t> {
      if (auto done = run_tool({"rm", "-rf", tree}); !done) return std::unexpected(done.error());
      return *counted;
    });
    if (!removed) return std::unexpected(removed.error());
    auto written =
        m.time("write-4k", [&] { return write_in_place(root + "/existing", c.write_size); });
    if (!written) return std::unexpected(written.error());
  }
  m.add_to(figures);
  if (c.fio) {
    std::vector<double> rates;
    const std::uint64_t before = m.requests();
    std::uint64_t ios = 0;
    for (unsigned r = 0; r < c.repeats; ++r) {
      drop_caches();
      auto iops = run_fio({.file = root + "/random",
                           .rw = "randwrite",
                           .size = c.fio_size,
                           .seconds = c.fio_seconds,
                           .output = scratch + "/fio.json"});
      if (!iops) return std::unexpected(std::move(iops.error()).with_context(method));
      rates.push_back(*iops);
      ios += static_cast<std::uint64_t>(*iops * c.fio_seconds);
    }
    WorkloadFigure f{.workload = "fio-randwrite-4k",
                     .method = method,
                     .seconds = 0,
                     .spread = spread(rates),
                     .operations = static_cast<std::uint64_t>(median(rates))};
    if (mount != nullptr && ios > 0)
      f.requests_per_op = static_cast<double>(m.requests() - before) / static_cast<double>(ios);
    figures.push_back(f);
  }
  return m.caches_dropped();
}

}  // namespace

Result<WorkloadRun> run_mount_workloads(const WorkloadConfig& c) {
  auto scratch = TempDir::create("zcopy-mount-workloads", c.dir);
  if (!scratch) return std::unexpected(scratch.error());
  const std::string archive = *scratch / "tree.tar";
  const stdfs::path tree(c.tree);
  if (auto made = run_tool(
          {"tar", "-cf", archive, "-C", tree.parent_path().string(), tree.filename().string()});
      !made) {
    return std::unexpected(made.error());
  }
  const std::string source = *scratch / "src";
  stdfs::create_directory(source);
  for (const char* name : {"/existing", "/random"}) {
    const std::uint64_t size = name[1] == 'e' ? c.write_size : c.fio_size;
    if (auto w = write_random_file(source + name, size, {.sync = true}); !w)
      return std::unexpected(w.error());
  }

  WorkloadRun run;
  auto native = measure("native", source, nullptr, c, archive, scratch->path(), run.figures);
  if (!native) return std::unexpected(native.error());
  run.caches_dropped = *native;
  const std::vector<std::string> transports =
      c.transports.empty() ? std::vector<std::string>{""} : c.transports;
  for (const std::string& name : c.modes) {
    for (const std::string& transport : transports) {
      auto mount = mount_for_bench(source, scratch->path(), name, transport, c.cache_seconds);
      if (!mount) return std::unexpected(mount.error());
      const std::string mountpoint =
          scratch->path() + "/mnt-" + name + (transport.empty() ? "" : "-" + transport);
      auto done = measure(mount_method(name, transport), mountpoint, &*mount, c, archive,
                          scratch->path(), run.figures);
      (void)mount->stop();
      if (!done) return std::unexpected(done.error());
    }
  }
  return run;
}

Report describe(const WorkloadRun& run, const WorkloadConfig& c) {
  Report out;
  Table table({"workload", "method", "seconds", "vs native", "requests/op"});
  std::map<std::string, const WorkloadFigure*> native;
  for (const WorkloadFigure& f : run.figures)
    if (f.method == "native") native[f.workload] = &f;
  for (const WorkloadFigure& f : run.figures) {
    const WorkloadFigure* base = native[f.workload];
    const bool fio = f.workload == "fio-randwrite-4k";
    // Slowdown against native: time ratio, or IOPS ratio for fio.
    const double vs = base == nullptr ? 0
                      : fio           ? static_cast<double>(base->operations) /
                                  static_cast<double>(std::max<std::uint64_t>(f.operations, 1))
                            : f.seconds / base->seconds;
    JsonRecord record = bench_record("mount-" + f.workload, f.method, 0);
    if (fio) {
      record.add("ops_per_s", static_cast<double>(f.operations));
    } else {
      record.add("seconds", f.seconds).add("operations", f.operations);
    }
    record.add("slowdown_vs_native", vs).add("spread", f.spread);
    if (f.requests_per_op) record.add("requests_per_op", *f.requests_per_op);
    if (!f.requests_by_operation.empty())
      record.add("requests_by_operation", f.requests_by_operation);
    out.records.push_back(record);
    table.add_row(
        {f.workload, f.method,
         fio ? fixed(static_cast<double>(f.operations), 0) + " IOPS" : fixed(f.seconds, 3),
         fixed(vs, 2) + "x", f.requests_per_op ? fixed(*f.requests_per_op, 2) : "-"});
  }
  out.text = format_text(
      "working-directory workloads on an untarred %s, %s written 4 KiB at a time in place, fio 4 "
      "KiB psync random writes for %u s; median of %u, %s\n",
      c.tree.c_str(), format_bytes(c.write_size).c_str(), c.fio_seconds, c.repeats,
      run.caches_dropped ? "caches dropped before each step" : "caches NOT dropped (needs root)");
  out.text += table.str();
  std::string mix;
  for (const WorkloadFigure& f : run.figures) {
    if (f.requests_by_operation.empty()) continue;
    mix += "  " + f.workload + " " + f.method + ": " + f.requests_by_operation + "\n";
  }
  if (!mix.empty()) out.text += "requests per operation, by request:\n" + mix;
  return out;
}

}  // namespace zc::bench
