// tools/zcopy/serve_bench.hpp: `zcopy serve bench`, serve against nginx in the same run: its
// options and its output; the measuring is bench/http/serve_bench.hpp.
#pragma once

#include <CLI/CLI.hpp>

#include "bench/http/serve_bench.hpp"
#include "command.hpp"

namespace zc::cli {

struct ServeBenchSettings {
  bench::ServeBenchConfig config;
  bool skip_wrk = false;
  bool json = false;
};

void add_serve_bench_options(CLI::App& app, ServeBenchSettings& settings);
CommandResult run_serve_bench(const ServeBenchSettings& settings);

}  // namespace zc::cli
