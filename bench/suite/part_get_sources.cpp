// The get-sources part: `zcopy get --bench-sources` as it is: one file from three nginx sources,
// each in its own network namespace shaped to the same rate R, fetched by zcopy and by aria2c
// in turn; the CPU is each client process's (rusage), and the figure beside the rate is R.
#include <unistd.h>

#include <atomic>

#include "bench/http/get_sources_bench.hpp"
#include "bench/suite/part.hpp"
#include "bench/support/report.hpp"

namespace zc::bench {

Result<PartOutput> run_get_sources_part(const SuiteConfig& c) {
  if (::geteuid() != 0) {
    return fail(Errc::capability_missing, "get-sources bench",
                "needs root for the network namespaces and tc");
  }
  PartOutput out;
  // Each source gives 10 MB/s. A short run still fetches 64 MiB (about 2 s per client): aria2c
  // splits a file only into parts of at least 20 MiB (its -k), so a smaller one would not give
  // it three sources to use.
  const GetSourcesBenchConfig config{.size = c.full ? 256 * kMiB : 64 * kMiB,
                                     .rate = "80mbit",
                                     .repeats = c.full ? 3U : 1U,
                                     .directory = {},
                                     .zcopy = c.tool};
  static const std::atomic<bool> never{false};
  auto result = run_get_sources_bench(config, never);
  if (!result) return std::unexpected(result.error());
  if (result->rows.size() < 2) {
    out.notes.push_back("aria2c is not installed (scripts/install-deps.sh installs it)");
  }
  const double r = result->single_source_bytes_per_s;
  for (const GetSourcesBenchRow& row : result->rows) {
    out.rows.push_back(
        Measurement{.module = "get-sources",
                    .bench = "get-3-sources",
                    .method = row.client,
                    .side = row.client == "zcopy" ? Side::ours : Side::peer,
                    .size_bytes = config.size,
                    .unit_note = "file from three sources, each shaped to R by tc",
                    .bytes_per_s = row.bytes_per_s,
                    .cpu_total_s_per_gb = row.cpu_s_per_gb,
                    .cpu_of = "the client process (rusage)",
                    .repetitions = config.repeats,
                    .spread = row.spread,
                    .note = format_text("%.2f R, R = %.1f MB/s from one source (curl)",
                                        r > 0 ? row.bytes_per_s / r : 0.0, r / 1e6)});
  }
  return out;
}

}  // namespace zc::bench
