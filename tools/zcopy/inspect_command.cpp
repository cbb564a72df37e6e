// zcopy inspect: pins a buffer, shows where it sits in physical memory (the scatter-gather list a
// device would need) and what touching memory costs with and without pinning
// (bench/mem/inspect_run.hpp does the looking).
#include <cstdio>
#include <memory>

#include "bench/mem/inspect_run.hpp"
#include "command.hpp"
#include "options.hpp"

namespace zc::cli {

CommandRunner add_inspect_command(CLI::App& sub) {
  auto config = std::make_shared<bench::InspectConfig>();
  auto json = std::make_shared<bool>(false);
  add_size_option(sub, "--size", config->size, "Buffer size, e.g. 64M (default 64M)", 1);
  sub.add_flag("--huge", config->huge, "Back the buffer with transparent huge pages (2 MiB)");
  sub.add_flag("--json", *json, "One JSON record per line instead of text");
  return [config, json]() -> CommandResult {
    auto inspection = bench::run_inspect(*config);
    if (!inspection) return std::unexpected(std::move(inspection.error()).with_context("inspect"));
    bench::describe(*inspection, *config).print(stdout, *json);
    return kExitOk;
  };
}

}  // namespace zc::cli
