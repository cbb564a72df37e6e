// tools/zcopy/serve_bench.hpp: `zcopy serve bench`, serve against nginx in the same run.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>

#include "command.hpp"

namespace zc::cli {

struct ServeBenchSettings {
  std::uint64_t size = 2ULL << 30;  // the large cached file
  int repeats = 3;                  // after one warm-up each
  int wrk_seconds = 5;
  int wrk_connections = 32;
  bool json = false;
  bool skip_wrk = false;
  bool veth = false;  // servers in a network namespace of their own, reached over a veth pair
};

void add_serve_bench_options(CLI::App& app, ServeBenchSettings& settings);
CommandResult run_serve_bench(const ServeBenchSettings& settings);

}  // namespace zc::cli
