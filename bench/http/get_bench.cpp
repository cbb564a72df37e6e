#include "bench/http/get_bench.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>

#include "bench/support/data.hpp"
#include "bench/support/peer_server.hpp"
#include "bench/support/process.hpp"
#include "bench/support/stats.hpp"
#include "zcopy/http/client/download.hpp"

namespace zc::bench {
namespace {

namespace fs = std::filesystem;

struct Sample {
  double bytes_per_s = 0;
  double cpu_s_per_gb = 0;
};

Result<Sample> run_curl(const std::string& url, const std::string& out, std::uint64_t size) {
  const auto start = std::chrono::steady_clock::now();
  auto curl = Process::spawn({"curl", "-s", "-f", "-o", out, url},
                             {.out = Output::inherit, .err = Output::inherit});
  if (!curl) return std::unexpected(curl.error());
  const Exit done = curl->wait();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!done.ok())
    return fail(Errc::rejected, "curl " + url, "exit status " + std::to_string(done.code));
  const double gb = static_cast<double>(size) / 1e9;
  return Sample{static_cast<double>(size) / wall, done.cpu.total() / gb};
}

Result<Sample> run_ours(const http::Url& url, const std::string& out, net::ReceiveMethod method,
                        std::uint64_t size) {
  http::DownloadOptions options;
  options.output = out;
  options.method = method;
  options.sync = false;  // curl does not fsync either
  auto result = http::download(url, options);
  if (!result) return std::unexpected(result.error());
  if (result->file_size != size)
    return fail(Errc::corrupt, "bench get", "short file: " + std::to_string(result->file_size));
  return Sample{result->ledger.bytes_per_s(), result->ledger.cpu_s_per_gb()};
}

}  // namespace

Result<std::vector<GetFigures>> run_get_bench(const GetBenchConfig& config) {
  std::optional<TempDir> own;
  std::string dir = config.directory;
  if (dir.empty()) {
    auto made = TempDir::create("zcopy-get-bench");
    if (!made) return std::unexpected(made.error());
    own = std::move(*made);
    dir = own->path();
  }
  fs::create_directories(dir + "/www");
  const std::string source = dir + "/www/data.bin";
  if (auto made = write_random_file(source, config.size, {.seed = 42}); !made)
    return std::unexpected(made.error());
  auto nginx = start_nginx({.dir = dir, .root = dir + "/www", .http_extra = "  tcp_nopush on;\n"});
  if (!nginx) return std::unexpected(nginx.error());
  const std::string url_text = nginx->url("/data.bin");
  auto url = http::parse_url(url_text);
  if (!url) return std::unexpected(url.error());
  const std::string out = dir + "/out.bin";

  const std::map<std::string, net::ReceiveMethod> ours = {
      {"splice", net::ReceiveMethod::splice},
      {"uring", net::ReceiveMethod::uring},
      {"copy", net::ReceiveMethod::copy},
  };
  // Warm-up: the source into the page cache, and every path once.
  if (auto r = run_ours(*url, out, net::ReceiveMethod::splice, config.size); !r)
    return std::unexpected(r.error());
  std::map<std::string, std::vector<Sample>> samples;
  const std::vector<std::string> order = {"splice", "uring", "copy", "curl"};
  for (unsigned repeat = 0; repeat < config.repeats; ++repeat) {
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::string& name = order[(k + repeat) % order.size()];
      fs::remove(out);
      Result<Sample> s = name == "curl" ? run_curl(url_text, out, config.size)
                                        : run_ours(*url, out, ours.at(name), config.size);
      if (!s) return std::unexpected(s.error());
      samples[name].push_back(*s);
    }
  }
  fs::remove(out);

  std::vector<GetFigures> figures;
  for (const std::string& name : order) {
    std::vector<double> rate, cpu;
    for (const Sample& s : samples[name]) {
      rate.push_back(s.bytes_per_s);
      cpu.push_back(s.cpu_s_per_gb);
    }
    figures.push_back({name, median(rate), median(cpu), spread(rate)});
  }
  return figures;
}

Report describe(const std::vector<GetFigures>& figures, const GetBenchConfig& config) {
  Report out;
  const GetFigures& curl = figures.back();
  out.text = format_text(
      "zcopy get vs curl: %s from nginx (sendfile on) on 127.0.0.1, median of %u after a "
      "warm-up, no fsync in either\n",
      format_bytes(config.size).c_str(), config.repeats);
  out.text += format_text("%-8s %12s %12s %12s %12s\n", "method", "MB/s", "CPU s/GB", "x curl MB/s",
                          "x curl CPU");
  for (const GetFigures& m : figures) {
    JsonRecord record = bench_record("get-file", m.method, config.size);
    record.add("bytes_per_s", m.bytes_per_s)
        .add("cpu_s_per_gb", m.cpu_s_per_gb)
        .add("throughput_vs_curl", m.bytes_per_s / curl.bytes_per_s)
        .add("cpu_vs_curl", m.cpu_s_per_gb / curl.cpu_s_per_gb)
        .add("throughput_spread", m.throughput_spread)
        .add("repeats", static_cast<std::uint64_t>(config.repeats));
    out.records.push_back(record);
    out.text += format_text("%-8s %12.0f %12.3f %12.2f %12.2f\n", m.method.c_str(),
                            m.bytes_per_s / 1e6, m.cpu_s_per_gb, m.bytes_per_s / curl.bytes_per_s,
                            m.cpu_s_per_gb / curl.cpu_s_per_gb);
  }
  return out;
}

}  // namespace zc::bench
