#include "bench/http/get_tree_bench.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <random>

#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "bench/support/serve_process.hpp"
#include "bench/support/stats.hpp"

namespace zc::bench {
namespace {

namespace fs = std::filesystem;

struct Tree {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

Result<Tree> make_tree(const std::string& root, const GetTreeBenchConfig& config) {
  std::mt19937_64 sizes(7);
  Tree tree;
  for (std::uint64_t i = 0; i < config.files; ++i) {
    const std::string dir =
        root + "/d" + std::to_string(i % std::max<std::uint64_t>(1, config.directories));
    fs::create_directories(dir);
    const std::uint64_t size = sizes() % (config.max_size + 1);
    if (auto r = write_random_file(dir + "/f" + std::to_string(i), size, {.seed = i}); !r) {
      return std::unexpected(r.error());
    }
    ++tree.files;
    tree.bytes += size;
  }
  return tree;
}

struct Sample {
  double wall_s = 0;
  double cpu_s = 0;
};

// One mirror by `argv` into `out` (emptied first), timed from spawn to exit.
Result<Sample> run_client(const std::vector<std::string>& argv, const std::string& out) {
  fs::remove_all(out);
  fs::create_directories(out);
  const auto start = std::chrono::steady_clock::now();
  auto client = Process::spawn(argv, {.out = Output::null, .err = Output::null});
  if (!client) return std::unexpected(client.error());
  const Exit done = client->wait();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!done.ok()) {
    return fail(Errc::rejected, "bench " + argv.front(),
                "exit status " + std::to_string(done.code) + " (" + argv.back() + ")");
  }
  return Sample{.wall_s = wall, .cpu_s = done.cpu.total()};
}

// The files a mirror left, wget's index.html pages aside.
std::uint64_t count_files(const std::string& out) {
  std::uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    if (e.is_regular_file() && e.path().filename() != "index.html") ++n;
  }
  return n;
}

}  // namespace

Result<std::vector<GetTreeFigures>> run_get_tree_bench(const GetTreeBenchConfig& config) {
  if (!have_program("wget")) {
    return fail(Errc::capability_missing, "get --bench-tree",
                "needs wget (scripts/install-deps.sh installs it)");
  }
  std::optional<TempDir> own;
  std::string dir = config.directory;
  if (dir.empty()) {
    auto made = TempDir::create("zcopy-get-tree-bench");
    if (!made) return std::unexpected(made.error());
    own = std::move(*made);
    dir = own->path();
  }
  auto tree = make_tree(dir + "/www", config);
  if (!tree) return std::unexpected(tree.error());
  ServeProcess serve(
      {config.tool, "serve", dir + "/www", "--port", "0", "--access-log", "/dev/null"});
  if (serve.url().empty()) {
    return fail(Errc::rejected, "get --bench-tree",
                "zcopy serve did not start: " + serve.stderr_text());
  }
  const std::string url = serve.url();
  const std::string out = dir + "/out";
  const std::map<std::string, std::vector<std::string>> clients = {
      {"zcopy get -r", {config.tool, "get", "-r", "-o", out, url}},
      {"zcopy get -r -j 8", {config.tool, "get", "-r", "-j", "8", "-o", out, url}},
      {"wget -r",
       {"wget", "-q", "-r", "-np", "-nH", "-l", "inf", "-e", "robots=off", "-P", out, url}},
  };
  const std::vector<std::string> order = {"zcopy get -r", "zcopy get -r -j 8", "wget -r"};
  // Warm-up: the tree into the page cache, and each client once; each must copy every file.
  for (const std::string& name : order) {
    if (auto r = run_client(clients.at(name), out); !r) return std::unexpected(r.error());
    if (const std::uint64_t n = count_files(out); n != tree->files) {
      return fail(
          Errc::corrupt, "bench " + name,
          "mirrored " + std::to_string(n) + " of " + std::to_string(tree->files) + " files");
    }
  }
  std::map<std::string, std::vector<Sample>> samples;
  for (unsigned repeat = 0; repeat < config.repeats; ++repeat) {
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::string& name = order[(k + repeat) % order.size()];
      auto s = run_client(clients.at(name), out);
      if (!s) return std::unexpected(s.error());
      samples[name].push_back(*s);
    }
  }
  fs::remove_all(out);
  std::vector<GetTreeFigures> figures;
  for (const std::string& name : order) {
    std::vector<double> rate, bytes, cpu;
    for (const Sample& s : samples[name]) {
      rate.push_back(static_cast<double>(tree->files) / s.wall_s);
      bytes.push_back(static_cast<double>(tree->bytes) / s.wall_s);
      cpu.push_back(s.cpu_s);
    }
    figures.push_back({.client = name,
                       .files_per_s = median(rate),
                       .bytes_per_s = median(bytes),
                       .spread = spread(rate),
                       .cpu_s = median(cpu)});
  }
  return figures;
}

Report describe(const std::vector<GetTreeFigures>& figures, const GetTreeBenchConfig& config) {
  Report out;
  double wget = 0;
  for (const GetTreeFigures& f : figures) {
    if (f.client == "wget -r") wget = f.files_per_s;
  }
  out.text = format_text(
      "zcopy get -r vs wget -r: %llu files of 0-%llu bytes in %llu directories from zcopy serve "
      "on 127.0.0.1, median of %u after a warm-up\n",
      static_cast<unsigned long long>(config.files),
      static_cast<unsigned long long>(config.max_size),
      static_cast<unsigned long long>(config.directories), config.repeats);
  out.text += format_text("%-18s %10s %10s %8s %10s %10s\n", "client", "files/s", "MB/s", "spread",
                          "CPU s", "x wget");
  for (const GetTreeFigures& f : figures) {
    JsonRecord record = bench_record("get-tree", f.client, config.max_size);
    record.add("ops_per_s", f.files_per_s)
        .add("files_per_s", f.files_per_s)
        .add("bytes_per_s", f.bytes_per_s)
        .add("files", config.files)
        .add("cpu_s", f.cpu_s)
        .add("files_per_s_vs_wget", wget > 0 ? f.files_per_s / wget : 0)
        .add("spread", f.spread)
        .add("repeats", static_cast<std::uint64_t>(config.repeats));
    out.records.push_back(record);
    out.text +=
        format_text("%-18s %10.0f %10.1f %8.2f %10.2f %10.2f\n", f.client.c_str(), f.files_per_s,
                    f.bytes_per_s / 1e6, f.spread, f.cpu_s, wget > 0 ? f.files_per_s / wget : 0);
  }
  return out;
}

}  // namespace zc::bench
