// The get part: the get bench (bench/http) as it is: one file from nginx downloaded by each of
// our methods, by curl and by aria2c, interleaved; our ledgers are the downloads' own, the
// peers' are what /proc/PID/io counted.
#include <cmath>

#include "bench/http/get_bench.hpp"
#include "bench/suite/part.hpp"
#include "bench/support/process.hpp"
#include "bench/support/report.hpp"

namespace zc::bench {

Result<PartOutput> run_get_part(const SuiteConfig& c) {
  PartOutput out;
  for (const char* program : {"nginx", "curl"}) {
    if (!have_program(program))
      return fail(Errc::capability_missing, "get bench",
                  std::string("needs ") + program + " (scripts/install-deps.sh installs it)");
  }
  if (!have_program("aria2c"))
    out.notes.push_back("aria2c is not installed (scripts/install-deps.sh installs it)");
  const GetBenchConfig config{.size = c.full ? kGiB : 64 * kMiB, .repeats = c.full ? 3U : 1U};
  auto figures = run_get_bench(config);
  if (!figures) return std::unexpected(figures.error());
  for (const GetFigures& f : *figures) {
    const bool peer = f.ledger_from_proc_io;
    Measurement m{.module = "get",
                  .bench = "get-file",
                  .method = f.method,
                  .side = peer                 ? Side::peer
                          : f.method == "copy" ? Side::baseline
                                               : Side::ours};
    m.size_bytes = config.size;
    m.unit_note = "file from nginx over loopback, no fsync";
    m.bytes_per_s = f.bytes_per_s;
    m.cpu_user_s_per_gb = f.cpu_user_s_per_gb;
    m.cpu_system_s_per_gb = f.cpu_system_s_per_gb;
    m.cpu_of = peer ? "the client process (rusage)" : "this process over the download";
    if (!peer && f.cpu_s_per_gb > 0 &&
        std::abs(f.ledger_cpu_s_per_gb - f.cpu_s_per_gb) > 0.2 * f.cpu_s_per_gb)
      m.note = format_text(
          "the ledger's own CPU (the calling thread) is %.3f s/GB, the process's %.3f s/GB: the "
          "rest ran on other threads of the process (io_uring workers)",
          f.ledger_cpu_s_per_gb, f.cpu_s_per_gb);
    m.repetitions = config.repeats;
    m.spread = f.throughput_spread;
    m.ledger = MeasuredLedger{.bytes = f.ledger.bytes,
                              .bytes_zero_copy = f.ledger.bytes_zero_copy,
                              .bytes_copied_user = f.ledger.bytes_copied_user,
                              .bytes_copied_kernel = f.ledger.bytes_copied_kernel,
                              .source = peer ? LedgerSource::proc_io : LedgerSource::own};
    if (peer) {
      m.counters = MeasuredCounters::from(f.counters);
    }
    out.rows.push_back(m);
  }
  return out;
}

}  // namespace zc::bench
