#include "serve_bench.hpp"

#include <cstdio>

#include "bench/support/process.hpp"
#include "options.hpp"

namespace zc::cli {

void add_serve_bench_options(CLI::App& app, ServeBenchSettings& s) {
  add_size_option(app, "--size", s.config.size, "Size of the large file (default 2G)", 1);
  app.add_option("--repeats", s.config.repeats,
                 "Measured runs per server after a warm-up (default 3)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--wrk-seconds", s.config.wrk_seconds, "Seconds per wrk run (default 5)")
      ->check(CLI::Range(1, 3600));
  app.add_option("--wrk-connections", s.config.wrk_connections, "wrk connections (default 32)")
      ->check(CLI::Range(1, 10000));
  app.add_option("--wrk-threads", s.config.wrk_threads, "wrk threads (default 1)")
      ->check(CLI::Range(1, 64));
  app.add_flag("--no-wrk", s.skip_wrk, "Skip the 4 KiB requests/s comparison");
  app.add_flag("--veth", s.config.veth,
               "Run the servers in a network namespace reached over a veth pair (needs root)");
  app.add_flag("--tls", s.config.tls,
               "serve --cert against nginx with ssl (sendfile off), TLS 1.3, same curl");
  app.add_flag("--json", s.json, "One JSON record per line instead of tables");
}

CommandResult run_serve_bench(const ServeBenchSettings& settings) {
  bench::ServeBenchConfig config = settings.config;
  config.tool = bench::self_executable();
  config.wrk = !settings.skip_wrk;
  auto figures = bench::run_serve_bench(config);
  if (!figures) return std::unexpected(figures.error());
  bench::describe(*figures, config).print(stdout, settings.json);
  return kExitOk;
}

}  // namespace zc::cli
