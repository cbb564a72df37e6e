#include "bench/fs/mount_workloads.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>

#include "bench/fs/bench_mount.hpp"
#include "bench/fs/fio_job.hpp"
#include "bench/fs/fuse_peer.hpp"
#include "bench/fs/scratch_fs.hpp"
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

// Whether SIGINT or SIGTERM arrived: the caller blocks them (bench/support/stop_signals.hpp) so
// that the scratch file systems and mounts are always taken down; the children (tar, rm, fio) run
// with them unblocked and end on Ctrl-C as usual.
bool stop_pending() {
  sigset_t pending;
  if (::sigpending(&pending) != 0) return false;
  return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1;
}

Result<void> check_stop() {
  if (stop_pending()) return fail(Errc::closed, "mount bench", "interrupted");
  return {};
}

// One method's samples over the repeats, each repeat on its own mount (or none: native).
class Measurer {
 public:
  explicit Measurer(std::string method) : method_(std::move(method)) {}

  // Times `step` (which returns its number of operations) after dropping the caches.
  Result<void> time(const std::string& workload, const fs::Mount* mount,
                    const std::function<Result<std::uint64_t>()>& step) {
    if (auto stop = check_stop(); !stop) return stop;
    dropped_ = drop_caches();
    const auto before = by_operation(mount);
    const auto start = std::chrono::steady_clock::now();
    auto operations = step();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!operations) return std::unexpected(std::move(operations.error()).with_context(workload));
    Samples& s = samples_[workload];
    s.seconds.push_back(seconds);
    s.operations = *operations;
    const auto after = by_operation(mount);
    for (std::size_t i = 0; i < fs::kMountOperations; ++i)
      s.by_operation[i] += after[i] - before[i];
    s.requests += after.back() - before.back();
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
                       .samples = s.seconds,
                       .operations = s.operations};
      if (mounted_ && s.operations > 0) {
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
    if (!fio_rates_.empty()) {
      WorkloadFigure f{.workload = "fio-randwrite-4k",
                       .method = method_,
                       .seconds = 0,
                       .spread = spread(fio_rates_),
                       .samples = {},
                       .operations = static_cast<std::uint64_t>(median(fio_rates_))};
      if (mounted_ && fio_ios_ > 0)
        f.requests_per_op = static_cast<double>(fio_requests_) / static_cast<double>(fio_ios_);
      figures.push_back(f);
    }
  }

  // For a step whose operations are counted after it ran.
  void set_operations(const std::string& workload, std::uint64_t operations) {
    samples_[workload].operations = operations;
  }

  Result<void> fio(const std::string& root, const fs::Mount* mount, const WorkloadConfig& c,
                   const std::string& scratch) {
    if (auto stop = check_stop(); !stop) return stop;
    drop_caches();
    const std::uint64_t before = requests(mount);
    auto iops = run_fio({.file = root + "/random",
                         .rw = "randwrite",
                         .size = c.fio_size,
                         .seconds = c.fio_seconds,
                         .output = scratch + "/fio.json"});
    if (!iops) return std::unexpected(std::move(iops.error()).with_context(method_));
    fio_rates_.push_back(*iops);
    fio_ios_ += static_cast<std::uint64_t>(*iops * c.fio_seconds);
    fio_requests_ += requests(mount) - before;
    return {};
  }

  void saw_mount(const fs::Mount* mount) { mounted_ = mounted_ || mount != nullptr; }
  bool caches_dropped() const { return dropped_; }

 private:
  static std::uint64_t requests(const fs::Mount* mount) {
    return mount != nullptr ? mount->stats().requests : 0;
  }
  // By request, with all requests last.
  static std::array<std::uint64_t, fs::kMountOperations + 1> by_operation(const fs::Mount* mount) {
    std::array<std::uint64_t, fs::kMountOperations + 1> counts{};
    if (mount == nullptr) return counts;
    const auto stats = mount->stats();
    std::copy(stats.by_operation.begin(), stats.by_operation.end(), counts.begin());
    counts.back() = stats.requests;
    return counts;
  }

  struct Samples {
    std::vector<double> seconds;
    std::uint64_t operations = 0;
    std::uint64_t requests = 0;
    std::array<std::uint64_t, fs::kMountOperations> by_operation{};
    unsigned runs = 0;
  };
  std::string method_;
  bool mounted_ = false;
  std::map<std::string, Samples> samples_;
  std::vector<double> fio_rates_;
  std::uint64_t fio_ios_ = 0;
  std::uint64_t fio_requests_ = 0;
  bool dropped_ = false;
};

// One pass of the steps (untar, stat, read-all, rm, write-4k, then fio) under `root`.
Result<void> measure_once(Measurer& m, const std::string& root, const fs::Mount* mount,
                          const WorkloadConfig& c, const std::string& archive,
                          const std::string& scratch) {
  m.saw_mount(mount);
  const std::string tree = root + "/tree";
  std::vector<char> buffer(kMiB);
  auto no_visit = [](const std::string&, const struct stat&) -> Result<void> { return {}; };
  auto entries = [&]() { return walk(tree, no_visit); };
  std::error_code ec;
  stdfs::create_directory(tree, ec);
  if (ec) return fail(Errc::system, "mkdir " + tree, ec.message());
  auto untar = m.time("untar", mount, [&]() -> Result<std::uint64_t> {
    if (auto done = run_tool({"tar", "-xf", archive, "-C", tree}); !done)
      return std::unexpected(done.error());
    return 0;  // counted below, untimed
  });
  if (!untar) return std::unexpected(untar.error());
  auto counted = entries();
  if (!counted) return std::unexpected(counted.error());
  m.set_operations("untar", *counted);
  if (auto stat = m.time("stat", mount, entries); !stat) return stat;
  auto read = m.time("read-all", mount, [&] {
    return walk(tree, [&](const std::string& path, const struct stat& st) -> Result<void> {
      return S_ISREG(st.st_mode) ? read_file(path, buffer) : Result<void>{};
    });
  });
  if (!read) return read;
  auto removed = m.time("rm", mount, [&]() -> Result<std::uint64_t> {
    if (auto done = run_tool({"rm", "-rf", tree}); !done) return std::unexpected(done.error());
    return *counted;
  });
  if (!removed) return removed;
  auto written =
      m.time("write-4k", mount, [&] { return write_in_place(root + "/existing", c.write_size); });
  if (!written) return written;
  if (c.fio) return m.fio(root, mount, c, scratch);
  return {};
}

// The files the 4 KiB writes and fio go into, written back before anything is measured.
Result<void> make_source(const std::string& source, const WorkloadConfig& c) {
  std::error_code ec;
  stdfs::create_directory(source, ec);
  if (ec) return fail(Errc::system, "mkdir " + source, ec.message());
  if (auto w = write_random_file(source + "/existing", c.write_size, {.sync = true}); !w)
    return std::unexpected(w.error());
  if (!c.fio) return {};
  return write_random_file(source + "/random", c.fio_size, {.seed = 2, .sync = true});
}

struct Method {
  std::string name;  // "native", "MODE", "MODE/TRANSPORT" or "passthrough_ll"
  std::string mode;  // empty for native and the peer
  std::string transport;
  bool peer = false;
};

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

  std::vector<Method> methods{{.name = "native", .mode = {}, .transport = {}, .peer = false}};
  const std::vector<std::string> transports =
      c.transports.empty() ? std::vector<std::string>{""} : c.transports;
  for (const std::string& mode : c.modes) {
    for (const std::string& transport : transports)
      methods.push_back({.name = mount_method(mode, transport),
                         .mode = mode,
                         .transport = transport,
                         .peer = false});
  }
  WorkloadRun run;
  std::string peer_binary;
  if (c.peer) {
    auto built = build_fuse_peer(c.fuse_examples, scratch->path());
    if (built) {
      peer_binary = built->binary;
      methods.push_back({.name = kFusePeerName, .mode = {}, .transport = {}, .peer = true});
      run.peer = "libfuse " + built->fuse_version + "'s example, cc -O2, run as `" +
                 FusePeer::arguments(c.cache_seconds) +
                 "` (its defaults otherwise: multithreaded, no writeback cache)";
    } else {
      run.peer_skipped = built.error().detail();
    }
  }
  std::vector<Measurer> measurers;
  for (const Method& method : methods) measurers.emplace_back(method.name);

  // A fresh file system per method and repeat: its size leaves room for the tree twice over (the
  // untarred tree and the blocks rm has not given back yet) beside the two files, and the tree's
  // entries twice over in inodes.
  const ScratchFsLayout layout = scratch_layout_like(scratch->path());
  std::uint64_t image_size = 0;
  std::uint64_t inodes = 0;
  if (c.scratch_fs) {
    auto entries =
        walk(c.tree, [](const std::string&, const struct stat&) -> Result<void> { return {}; });
    if (!entries) return std::unexpected(entries.error());
    std::error_code ec;
    const std::uint64_t archived = stdfs::file_size(archive, ec);
    image_size = ((4 * archived + c.write_size + c.fio_size) / kMiB + 512) * kMiB;
    inodes = 2 * *entries + 16'384;
    run.file_system = "a fresh ext4 per method and repeat (" + layout.describe() +
                      ", on a loop device over a sparse file in " + c.dir + ")";
  } else {
    run.file_system = "the file system of " + c.dir + ", one tree for every method and repeat";
    if (auto made = make_source(*scratch / "src", c); !made) return std::unexpected(made.error());
  }

  // Methods take turns within each repeat, so that none always follows another's rm.
  for (unsigned r = 0; r < c.repeats; ++r) {
    for (std::size_t i = 0; i < methods.size(); ++i) {
      if (auto stop = check_stop(); !stop) return std::unexpected(stop.error());
      const Method& method = methods[i];
      std::optional<ScratchFs> fresh;
      std::string source = *scratch / "src";
      if (c.scratch_fs) {
        auto made =
            ScratchFs::create(*scratch / "image", *scratch / "fs", image_size, inodes, layout);
        if (!made) return std::unexpected(made.error());
        fresh.emplace(std::move(*made));
        source = fresh->path() + "/src";
        if (auto files = make_source(source, c); !files) return std::unexpected(files.error());
      }
      std::optional<fs::Mount> mount;
      std::optional<FusePeer> peer;  // declared after `fresh`: taken down before it
      std::string root = source;
      if (method.peer) {
        root = scratch->path() + "/mnt-" + kFusePeerName;
        std::error_code ec;
        stdfs::create_directory(root, ec);
        if (ec) return fail(Errc::system, "mkdir " + root, ec.message());
        auto started = FusePeer::start(peer_binary, source, root, c.cache_seconds,
                                       scratch->path() + "/" + kFusePeerName + ".log");
        if (!started) return std::unexpected(started.error());
        peer.emplace(std::move(*started));
      } else if (!method.mode.empty()) {
        auto made = mount_for_bench(source, scratch->path(), method.mode, method.transport,
                                    c.cache_seconds);
        if (!made) return std::unexpected(made.error());
        mount.emplace(std::move(*made));
        root = scratch->path() + "/mnt-" + method.mode +
               (method.transport.empty() ? "" : "-" + method.transport);
      }
      auto done =
          measure_once(measurers[i], root, mount ? &*mount : nullptr, c, archive, scratch->path());
      if (mount) (void)mount->stop();
      if (peer) {
        auto stopped = peer->stop();
        if (done && !stopped) done = std::unexpected(stopped.error());
      }
      if (!done) return std::unexpected(std::move(done.error()).with_context(method.name));
    }
  }
  for (const Measurer& m : measurers) m.add_to(run.figures);
  run.caches_dropped = measurers.front().caches_dropped();
  return run;
}

Report describe(const WorkloadRun& run, const WorkloadConfig& c) {
  Report out;
  const bool with_peer = !run.peer.empty();
  std::vector<std::string> header{"workload", "method", "seconds", "vs native"};
  if (with_peer) header.push_back(std::string("vs ") + kFusePeerName);
  header.push_back("requests/op");
  Table table(std::move(header));
  std::map<std::string, const WorkloadFigure*> native;
  std::map<std::string, const WorkloadFigure*> peer;
  for (const WorkloadFigure& f : run.figures) {
    if (f.method == "native") native[f.workload] = &f;
    if (f.method == kFusePeerName) peer[f.workload] = &f;
  }
  for (const WorkloadFigure& f : run.figures) {
    const bool fio = f.workload == "fio-randwrite-4k";
    // Slowdown against `base`: time ratio, or IOPS ratio for fio; 0 without a base.
    const auto slowdown = [&](const WorkloadFigure* base) {
      if (base == nullptr) return 0.0;
      if (fio) {
        return static_cast<double>(base->operations) /
               static_cast<double>(std::max<std::uint64_t>(f.operations, 1));
      }
      return f.seconds / base->seconds;
    };
    const double vs = slowdown(native[f.workload]);
    const WorkloadFigure* peer_figure = peer[f.workload];
    JsonRecord record = bench_record("mount-" + f.workload, f.method, 0);
    if (fio) {
      record.add("ops_per_s", static_cast<double>(f.operations));
    } else {
      record.add("seconds", f.seconds).add("operations", f.operations);
    }
    record.add("slowdown_vs_native", vs);
    if (peer_figure != nullptr) record.add("slowdown_vs_peer", slowdown(peer_figure));
    record.add("spread", f.spread).add("scratch_fs", c.scratch_fs);
    if (!f.samples.empty()) {
      std::string samples;
      for (double seconds : f.samples) samples += (samples.empty() ? "" : " ") + fixed(seconds, 3);
      record.add("samples", samples);
    }
    if (f.requests_per_op) record.add("requests_per_op", *f.requests_per_op);
    if (f.method == kFusePeerName) record.add("peer", run.peer);
    if (!f.requests_by_operation.empty())
      record.add("requests_by_operation", f.requests_by_operation);
    out.records.push_back(record);
    std::vector<std::string> row{
        f.workload, f.method,
        fio ? fixed(static_cast<double>(f.operations), 0) + " IOPS" : fixed(f.seconds, 3),
        fixed(vs, 2) + "x"};
    if (with_peer) row.push_back(peer_figure ? fixed(slowdown(peer_figure), 2) + "x" : "-");
    // The peer's requests are not counted: it is another program.
    row.push_back(f.requests_per_op ? fixed(*f.requests_per_op, 2) : "-");
    table.add_row(std::move(row));
  }
  out.text = format_text(
      "working-directory workloads on an untarred %s, %s written 4 KiB at a time in place, fio 4 "
      "KiB psync random writes for %u s; median of %u, %s; in %s\n",
      c.tree.c_str(), format_bytes(c.write_size).c_str(), c.fio_seconds, c.repeats,
      run.caches_dropped ? "caches dropped before each step" : "caches NOT dropped (needs root)",
      run.file_system.c_str());
  if (!run.peer.empty()) out.text += std::string(kFusePeerName) + ": " + run.peer + "\n";
  if (!run.peer_skipped.empty()) {
    out.text += std::string(kFusePeerName) + " skipped: " + run.peer_skipped + "\n";
    out.records.push_back(
        bench_record("mount-peer", kFusePeerName, 0).add("skipped", run.peer_skipped));
  }
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
