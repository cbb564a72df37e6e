// bench/secure/record_open_bench.hpp: how fast the record layer opens 16 KiB AES-256-GCM records
// in place, beside `openssl speed -evp aes-256-gcm -bytes 16384` on the same machine, same run.
//
// A ring of sealed records (1 MiB, cache-warm like openssl speed's buffer) is opened in place,
// record by record, through UnverifiedRecord::open: the nonce, the header as AAD, decryption
// and the tag check, every record. Between passes the ring gets its ciphertext back (untimed)
// and the opener restarts at sequence 0. Then openssl speed runs for as long; its figure is the
// plain encryption loop over one 16 KiB buffer (whole seconds, at least one), with no per-record
// nonce or tag. Both sides divide by the CPU time they used (openssl speed's default divisor is its
// user time), so a machine shared with other work does not tilt the comparison.
#pragma once

#include <string>

#include "bench/support/report.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

struct RecordOpenBenchConfig {
  double seconds = 3;    // for each side
  unsigned repeats = 3;  // ours and openssl's alternately; medians reported
};

struct RecordOpenFigures {
  double ours_bytes_per_s = 0;
  double openssl_speed_bytes_per_s = 0;  // 0 when the openssl program is missing
  std::string openssl_version{};
};

Result<RecordOpenFigures> run_record_open_bench(const RecordOpenBenchConfig& config);
Report describe(const RecordOpenFigures& figures, const RecordOpenBenchConfig& config);

}  // namespace zc::bench
