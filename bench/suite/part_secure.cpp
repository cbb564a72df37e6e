// The secure part: the record open bench (bench/secure) as it is: 16 KiB AES-256-GCM records
// opened in place, beside `openssl speed` on the same machine in the same run. Both figures are
// bytes per CPU second of the one thread doing the work, so CPU per GB follows from them.
#include "bench/secure/record_open_bench.hpp"
#include "bench/suite/part.hpp"

namespace zc::bench {
namespace {

Measurement record_row(const char* method, Side side, double bytes_per_cpu_s,
                       const RecordOpenBenchConfig& config) {
  Measurement m{.module = "secure", .bench = "tls-open-16k", .method = method, .side = side};
  m.size_bytes = 16384;
  m.unit_note = "record, AES-256-GCM; bytes per CPU second";
  m.bytes_per_s = bytes_per_cpu_s;
  m.cpu_total_s_per_gb = 1e9 / bytes_per_cpu_s;
  m.cpu_of = "the thread opening records";
  m.repetitions = config.repeats;
  return m;
}

}  // namespace

Result<PartOutput> run_secure_part(const SuiteConfig& c) {
  const RecordOpenBenchConfig config{.seconds = c.full ? 3.0 : 1.0, .repeats = c.full ? 3u : 1u};
  auto figures = run_record_open_bench(config);
  if (!figures) return std::unexpected(figures.error());
  PartOutput out;
  if (figures->ours_bytes_per_s > 0)
    out.rows.push_back(record_row("in-place open", Side::ours, figures->ours_bytes_per_s, config));
  if (figures->openssl_speed_bytes_per_s > 0) {
    out.rows.push_back(
        record_row("openssl speed", Side::peer, figures->openssl_speed_bytes_per_s, config));
    out.notes.push_back("openssl speed: " + figures->openssl_version +
                        ", encryption of one 16 KiB buffer, no per-record nonce or tag");
  } else {
    out.notes.push_back("openssl speed is not measured: the openssl program is missing");
  }
  return out;
}

}  // namespace zc::bench
