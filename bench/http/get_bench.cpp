#include "bench/http/get_bench.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/peer_server.hpp"
#include "bench/support/process.hpp"
#include "bench/support/process_counters.hpp"
#include "bench/support/stats.hpp"
#include "bench/support/tls_pki.hpp"
#include "zcopy/http/client/download.hpp"

namespace zc::bench {
namespace {

namespace fs = std::filesystem;

struct Sample {
  double bytes_per_s = 0;
  double cpu_s_per_gb = 0;
  CpuTime cpu{};
  TransferLedger ledger{};
  ProcessCounters counters{};
};

// A peer program's download: its CPU from its rusage, its read()/write() bytes from /proc/PID/io
// read after it ended and before it is reaped.
Result<Sample> run_peer(const std::vector<std::string>& argv, const std::string& url,
                        std::uint64_t size) {
  const auto start = std::chrono::steady_clock::now();
  auto peer = Process::spawn(argv, {.out = Output::inherit, .err = Output::inherit});
  if (!peer) return std::unexpected(peer.error());
  peer->await_exit();
  const ProcessCounters counters = read_counters(peer->pid());
  const Exit done = peer->wait();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!done.ok())
    return fail(Errc::rejected, argv.front() + " " + url,
                "exit status " + std::to_string(done.code));
  const double gb = static_cast<double>(size) / 1e9;
  const std::uint64_t copied = std::min(counters.write_bytes, size);
  return Sample{.bytes_per_s = static_cast<double>(size) / wall,
                .cpu_s_per_gb = done.cpu.total() / gb,
                .cpu = done.cpu,
                .ledger = {.method = argv.front(),
                           .bytes = size,
                           .bytes_zero_copy = 0,
                           .bytes_copied_user = 0,
                           .bytes_copied_kernel = copied,
                           .wall_s = wall,
                           .cpu_user_s = done.cpu.user_s,
                           .cpu_system_s = done.cpu.system_s},
                .counters = counters};
}

Result<Sample> run_curl(const std::string& url, const std::string& out, std::uint64_t size) {
  return run_peer({"curl", "-s", "-f", "-o", out, url}, url, size);
}

Result<Sample> run_aria2c(const std::string& url, const std::string& out, std::uint64_t size) {
  const fs::path path(out);
  return run_peer({"aria2c", "-q", "--allow-overwrite=true", "--auto-file-renaming=false",
                   "--file-allocation=none", "-d", path.parent_path().string(), "-o",
                   path.filename().string(), url},
                  url, size);
}

Result<Sample> run_ours(const http::Url& url, const std::string& out, net::ReceiveMethod method,
                        std::uint64_t size, const secure::SessionOptions& tls = {}) {
  http::DownloadOptions options;
  options.output = out;
  options.method = method;
  options.tls = tls;
  options.sync = false;  // curl does not fsync either
  // The process's CPU, not the ledger's: the ledger counts the calling thread, and io_uring
  // hands splices to worker threads of this process.
  const CpuStopwatch watch;
  auto result = http::download(url, options);
  const CpuTime used = watch.cpu();
  if (!result) return std::unexpected(result.error());
  if (result->file_size != size)
    return fail(Errc::corrupt, "bench get", "short file: " + std::to_string(result->file_size));
  const double gb = static_cast<double>(size) / 1e9;
  return Sample{.bytes_per_s = result->ledger.bytes_per_s(),
                .cpu_s_per_gb = used.total() / gb,
                .cpu = used,
                .ledger = result->ledger,
                .counters = {}};
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

  // The same file over TLS from a second nginx: 1.3 with AES-256-GCM, 1.2 for SSL_read.
  std::optional<PeerServer> tls_nginx;
  std::string https_text;
  TlsPki pki;
  if (config.https) {
    fs::create_directories(dir + "/pki");
    fs::create_directories(dir + "/tls");
    auto made = make_tls_pki(dir + "/pki");
    if (!made) return std::unexpected(made.error());
    pki = *made;
    auto started = start_nginx(
        {.dir = dir + "/tls",
         .root = dir + "/www",
         .http_extra = "  tcp_nopush on;\n",
         .server_extra =
             "    ssl_certificate " + pki.server_cert + ";\n    ssl_certificate_key " +
             pki.server_key +
             ";\n    ssl_protocols TLSv1.2 TLSv1.3;\n"
             "    ssl_conf_command Ciphersuites TLS_AES_256_GCM_SHA384;\n"
             "    ssl_ciphers ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES256-GCM-SHA384;\n",
         .listen_extra = "ssl"});
    if (!started) return std::unexpected(started.error());
    tls_nginx = std::move(*started);
    https_text = "https://127.0.0.1:" + std::to_string(tls_nginx->port()) + "/data.bin";
  }
  auto https_url = config.https ? http::parse_url(https_text) : url;
  if (!https_url) return std::unexpected(https_url.error());
  const secure::SessionOptions tls13{.ca_file = pki.ca_cert, .allow_tls12 = false};
  const secure::SessionOptions tls12{.ca_file = pki.ca_cert, .allow_tls13 = false};

  const std::map<std::string, net::ReceiveMethod> ours = {
      {"splice", net::ReceiveMethod::splice},
      {"uring", net::ReceiveMethod::uring},
      {"copy", net::ReceiveMethod::copy},
  };
  // Warm-up: the source into the page cache, and every path once.
  if (auto r = run_ours(*url, out, net::ReceiveMethod::splice, config.size); !r)
    return std::unexpected(r.error());
  std::map<std::string, std::vector<Sample>> samples;
  std::vector<std::string> order = {"splice", "uring", "copy", "curl"};
  if (have_program("aria2c")) order.insert(order.end() - 1, "aria2c");
  if (config.https) {
    if (auto r = run_ours(*https_url, out, net::ReceiveMethod::copy, config.size, tls13); !r)
      return std::unexpected(r.error());
    order.insert(order.end(), {"https", "https-ssl_read", "curl-https"});
  }
  for (unsigned repeat = 0; repeat < config.repeats; ++repeat) {
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::string& name = order[(k + repeat) % order.size()];
      fs::remove(out);
      Result<Sample> s =
          name == "curl"     ? run_curl(url_text, out, config.size)
          : name == "aria2c" ? run_aria2c(url_text, out, config.size)
          : name == "curl-https"
              ? run_peer({"curl", "-s", "-f", "--cacert", pki.ca_cert, "-o", out, https_text},
                         https_text, config.size)
          : name == "https"
              ? run_ours(*https_url, out, net::ReceiveMethod::copy, config.size, tls13)
          : name == "https-ssl_read"
              ? run_ours(*https_url, out, net::ReceiveMethod::copy, config.size, tls12)
              : run_ours(*url, out, ours.at(name), config.size);
      if (!s) return std::unexpected(s.error());
      samples[name].push_back(*s);
    }
  }
  fs::remove(out);

  std::vector<GetFigures> figures;
  const double gb = static_cast<double>(config.size) / 1e9;
  for (const std::string& name : order) {
    std::vector<double> rate, cpu, user, ledger_cpu;
    for (const Sample& s : samples[name]) {
      ledger_cpu.push_back(s.ledger.cpu_s() / gb);
      rate.push_back(s.bytes_per_s);
      cpu.push_back(s.cpu_s_per_gb);
      user.push_back(s.cpu.user_s / gb);
    }
    const Sample& first = samples[name].front();
    const double cpu_per_gb = median(cpu);
    const double user_per_gb = std::min(median(user), cpu_per_gb);
    figures.push_back(
        {.method = name,
         .bytes_per_s = median(rate),
         .cpu_s_per_gb = cpu_per_gb,
         .throughput_spread = spread(rate),
         .cpu_user_s_per_gb = user_per_gb,
         .cpu_system_s_per_gb = cpu_per_gb - user_per_gb,
         .ledger = first.ledger,
         .ledger_from_proc_io = name == "curl" || name == "aria2c" || name == "curl-https",
         .ledger_cpu_s_per_gb = median(ledger_cpu),
         .counters = first.counters});
  }
  return figures;
}

Report describe(const std::vector<GetFigures>& figures, const GetBenchConfig& config) {
  Report out;
  const auto find = [&](const std::string& name) {
    for (const GetFigures& f : figures)
      if (f.method == name) return f;
    return figures.back();
  };
  const GetFigures plain_curl = find("curl");
  const GetFigures https_curl = find("curl-https");
  out.text = format_text(
      "zcopy get vs curl: %s from nginx (sendfile on) on 127.0.0.1, median of %u after a "
      "warm-up, no fsync in either\n",
      format_bytes(config.size).c_str(), config.repeats);
  if (config.https) {
    out.text +=
        "https rows: a second nginx, TLS 1.3 TLS_AES_256_GCM_SHA384 (https-ssl_read: TLS 1.2), "
        "against curl-https\n";
  }
  out.text += format_text("%-15s %12s %12s %12s %12s\n", "method", "MB/s", "CPU s/GB",
                          "x curl MB/s", "x curl CPU");
  for (const GetFigures& m : figures) {
    const bool over_tls = m.method.starts_with("https") || m.method == "curl-https";
    const GetFigures& curl = over_tls ? https_curl : plain_curl;
    JsonRecord record = bench_record("get-file", m.method, config.size);
    record.add("bytes_per_s", m.bytes_per_s)
        .add("cpu_s_per_gb", m.cpu_s_per_gb)
        .add("throughput_vs_curl", m.bytes_per_s / curl.bytes_per_s)
        .add("cpu_vs_curl", m.cpu_s_per_gb / curl.cpu_s_per_gb)
        .add("throughput_spread", m.throughput_spread)
        .add("repeats", static_cast<std::uint64_t>(config.repeats));
    out.records.push_back(record);
    out.text += format_text("%-15s %12.0f %12.3f %12.2f %12.2f\n", m.method.c_str(),
                            m.bytes_per_s / 1e6, m.cpu_s_per_gb, m.bytes_per_s / curl.bytes_per_s,
                            m.cpu_s_per_gb / curl.cpu_s_per_gb);
  }
  return out;
}

}  // namespace zc::bench
