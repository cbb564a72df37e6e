#include "serve_bench.hpp"

namespace zc::cli {
void add_serve_bench_options(CLI::App& app, ServeBenchSettings& s) {
  app.add_flag("--json", s.json, "One JSON record per line");
}
CommandResult run_serve_bench(const ServeBenchSettings&) {
  return kExitRuntimeError;
}
}  // namespace zc::cli
