#include "bench/http/get_sources_bench.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include "bench/support/data.hpp"
#include "bench/support/netns.hpp"
#include "bench/support/peer_server.hpp"
#include "bench/support/process.hpp"
#include "bench/support/stats.hpp"

namespace zc::bench {
namespace {

constexpr int kSources = 3;
constexpr std::uint16_t kPort = 8080;

struct ShapedSource {
  std::unique_ptr<VethNamespace> veth;
  PeerServer nginx;
  std::string url;
};

Result<ShapedSource> start_source(int index, const std::string& dir, const std::string& root,
                                  const std::string& rate) {
  ShapedSource source;
  const std::string tag = "g" + std::to_string(index);
  source.veth = std::make_unique<VethNamespace>(tag, 224 + index);
  if (!source.veth->ok()) {
    return fail(Errc::capability_missing, "get --bench-sources",
                "could not make a network namespace with a veth pair (needs root and iproute2)");
  }
  // A token bucket on the server's end: its egress, the file's direction, is held to R.
  if (!ip({"-n", source.veth->name(), "link", "set", source.veth->inner_link(), "txqueuelen",
           "1000"}) ||
      run(source.veth->exec({"tc", "qdisc", "add", "dev", source.veth->inner_link(), "root", "tbf",
                             "rate", rate, "burst", "64kb", "latency", "100ms"}))
              .exit_code != 0) {
    return fail(Errc::capability_missing, "get --bench-sources", "tc could not shape " + rate);
  }
  const std::string own = dir + "/nginx-" + std::to_string(index);
  std::filesystem::create_directories(own);
  auto nginx = start_nginx({.dir = own,
                            .root = root,
                            .host = source.veth->inner_ip(),
                            .port = kPort,
                            .exec_prefix = source.veth->exec({})});
  if (!nginx) return std::unexpected(nginx.error());
  source.nginx = std::move(*nginx);
  source.url = source.nginx.url("/data.bin");
  return source;
}

struct Timed {
  double seconds = 0;
  CpuTime cpu{};
};

Result<Timed> timed_run(const std::vector<std::string>& argv) {
  const auto start = std::chrono::steady_clock::now();
  auto child = Process::spawn(argv, {.out = Output::null, .err = Output::null});
  if (!child) return std::unexpected(child.error());
  const Exit done = child->wait();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!done.ok()) {
    return fail(Errc::rejected, argv.front(), "exit status " + std::to_string(done.code));
  }
  return Timed{wall, done.cpu};
}

Result<void> same_file(const std::string& got, const std::string& want) {
  if (read_text(got) != read_text(want)) {
    return fail(Errc::corrupt, "get --bench-sources", got + " differs from the served file");
  }
  return {};
}

}  // namespace

Result<GetSourcesBenchResult> run_get_sources_bench(const GetSourcesBenchConfig& config,
                                                    const std::atomic<bool>& stop) {
  for (const char* program : {"nginx", "curl", "tc"}) {
    if (!have_program(program)) {
      return fail(Errc::capability_missing, "get --bench-sources", std::string("needs ") + program);
    }
  }
  auto temp =
      TempDir::create("zcopy-get-sources", config.directory.empty() ? "/tmp" : config.directory);
  if (!temp) return std::unexpected(temp.error());
  const std::string root = *temp / "www";
  std::filesystem::create_directories(root);
  const std::string file = root + "/data.bin";
  if (auto made = write_random_file(file, config.size, {.warm = true}); !made) {
    return std::unexpected(made.error());
  }
  std::vector<ShapedSource> sources;
  for (int i = 0; i < kSources; ++i) {
    auto source = start_source(i, temp->path(), root, config.rate);
    if (!source) return std::unexpected(source.error());
    sources.push_back(std::move(*source));
  }

  GetSourcesBenchResult result;
  const double gb = static_cast<double>(config.size) / 1e9;
  const std::string out = *temp / "out.bin";
  {
    auto single = timed_run({"curl", "-s", "-o", out, sources[0].url});
    if (!single) return std::unexpected(single.error());
    result.single_source_bytes_per_s = static_cast<double>(config.size) / single->seconds;
  }
  std::vector<std::string> zcopy = {config.zcopy, "get", "-o", out};
  std::vector<std::string> aria2c = {"aria2c",
                                     "-q",
                                     "-s",
                                     "3",
                                     "-x",
                                     "3",
                                     "--allow-overwrite=true",
                                     "--auto-file-renaming=false",
                                     "--file-allocation=none",
                                     "-d",
                                     temp->path(),
                                     "-o",
                                     "out.bin"};
  for (const ShapedSource& s : sources) {
    zcopy.push_back(s.url);
    aria2c.push_back(s.url);
  }
  std::vector<std::pair<std::string, std::vector<std::string>>> clients = {{"zcopy", zcopy}};
  if (have_program("aria2c")) clients.emplace_back("aria2c", aria2c);
  std::vector<std::vector<double>> rates(clients.size()), cpus(clients.size());
  for (unsigned repeat = 0; repeat < config.repeats && !stop.load(); ++repeat) {
    for (std::size_t c = 0; c < clients.size(); ++c) {
      std::filesystem::remove(out);
      auto timed = timed_run(clients[c].second);
      if (!timed) return std::unexpected(timed.error());
      if (auto same = same_file(out, file); !same) return std::unexpected(same.error());
      rates[c].push_back(static_cast<double>(config.size) / timed->seconds);
      cpus[c].push_back(timed->cpu.total() / gb);
    }
  }
  for (std::size_t c = 0; c < clients.size(); ++c) {
    result.rows.push_back({.client = clients[c].first,
                           .bytes_per_s = median(rates[c]),
                           .cpu_s_per_gb = median(cpus[c]),
                           .spread = spread(rates[c])});
  }
  return result;
}

}  // namespace zc::bench
