// bench/http/get_bench.hpp: `zcopy get` into a file against curl, from the same nginx, in one run.
//
// Debian's nginx (sendfile on) serves a generated file on a free loopback port; after a warm-up
// (the source into the page cache, every path once) the file is fetched `repeats` times by
// splice, uring, copy and with curl (and aria2c), interleaved, the order rotating every repeat so
// that no method always runs right after another's writeback. Neither side fsyncs, so both measure
// network to page cache. Our CPU is this process's over the download (the ledger's own names the
// calling thread only, and io_uring runs splices on worker threads); curl's is its rusage.
//
// With `https`, a second nginx serves the same file over TLS (1.3 with TLS_AES_256_GCM_SHA384,
// and 1.2 for the SSL_read path), with a certificate from a test CA, in the same rotation: "https"
// (ours, records opened in place), "https-ssl_read" (ours over TLS 1.2) and "curl-https"; those
// rows are compared with curl-https.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/support/process_counters.hpp"
#include "bench/support/report.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {

struct GetBenchConfig {
  std::uint64_t size = 2 * kGiB;
  unsigned repeats = 5;
  std::string directory{};  // empty: a fresh directory under /tmp, removed afterwards
  bool https = false;       // also over TLS, against curl over TLS
};

struct GetFigures {
  std::string method{};  // splice, uring, copy, aria2c, curl
  double bytes_per_s = 0;
  double cpu_s_per_gb = 0;
  double throughput_spread = 0;
  double cpu_user_s_per_gb = 0;
  double cpu_system_s_per_gb = 0;
  // Ours: the download's own ledger. A peer's: what its /proc/PID/io counted (read()/write()
  // bytes, so its writes into the file; its recv() copies are not counted).
  TransferLedger ledger{};
  bool ledger_from_proc_io = false;
  double ledger_cpu_s_per_gb = 0;  // the CPU the ledger itself names (ours: the calling thread)
  ProcessCounters counters{};      // a peer's, over the whole download
};

// The medians, in the order splice, uring, copy, aria2c (when installed), curl, then with https:
// https, https-ssl_read, curl-https.
Result<std::vector<GetFigures>> run_get_bench(const GetBenchConfig& config);

// A get-file record per method and a table, each method also against curl (https rows against
// curl-https).
Report describe(const std::vector<GetFigures>& figures, const GetBenchConfig& config);

}  // namespace zc::bench
