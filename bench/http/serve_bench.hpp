// bench/http/serve_bench.hpp: `zcopy serve` against nginx on loopback (or over a veth pair), in
// one run, with the same clients.
//
// Throughput: curl downloads one cached file (2 GiB by default) to /dev/null from each server:
// ours with every body method, and nginx with sendfile on and tcp_nopush on. Each of our servers
// reports its own ledger (bytes, copies, CPU of its process; `zcopy serve --ledger-json`), asked
// for before and after every download; nginx reports none, so its CPU (master and workers) is read
// from /proc and its bytes count as sent by sendfile. Servers run on CPU 0 and curl on CPU 1, so
// that CPU 0's softirq time, the receive-side work the kernel runs inline in the sender, can be
// told apart from the server's own. Requests/s: wrk with keep-alive fetches a 4 KiB file from our
// sendfile server and from nginx. Every figure is the median of `repeats` runs after one warm-up,
// in interleaved rounds. Both servers log every request to a file, buffered (ours per event loop,
// nginx with buffer=64k), and run two workers. With `tls`, one `serve --cert` against nginx with
// ssl on (sendfile off) and the same curl.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/support/process_counters.hpp"
#include "bench/support/report.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/transfer_ledger.hpp"

namespace zc::bench {

struct ServeBenchConfig {
  std::string tool{};               // the zcopy binary whose `serve` is measured
  std::uint64_t size = 2ULL << 30;  // the large cached file
  int repeats = 3;                  // after one warm-up each
  int wrk_seconds = 5;
  int wrk_connections = 32;  // above a few hundred, RLIMIT_NOFILE is raised for every process
  int wrk_threads = 1;
  bool wrk = true;
  bool veth = false;  // servers in a network namespace of their own, reached over a veth pair
  // HTTPS: `serve --cert` against nginx with ssl (sendfile off, as nginx must without kTLS), curl
  // trusting a test CA; TLS 1.3 with AES-256-GCM on both. No wrk rows.
  bool tls = false;
};

struct ServerFigures {
  std::string label{};             // "serve sendfile", "nginx"
  TransferLedger ledger{};         // one download, medians of wall and CPU
  double softirq_s_per_gb = 0;     // receive-side work on the server's CPU during the download
  double own_cpu_s_per_gb = 0;     // CPU less that softirq, never below zero
  double throughput_spread = 0;    // of the measured runs (stats.hpp)
  double client_cpu_s_per_gb = 0;  // curl's user+sys: where the time goes when the client is busy
  double client_wait_s = 0;        // curl runnable but waiting for a CPU (another load's doing)
  ProcessCounters counters{};      // the server's, over the median download
};

// Where the time of a wrk run went, as shares of its wall time (1.0: one CPU all along): the
// server's user and system CPU (workers included), the time its threads were runnable but waited
// for a CPU, wrk's own CPU; and the server's CPU per request.
struct WrkTime {
  double server_user = 0;
  double server_system = 0;
  double server_waiting = 0;
  double client = 0;
  double server_cpu_us_per_request = 0;
};

struct WrkFigures {
  std::string label{};  // the server and the body method it reported using
  double requests_per_s = 0;
  double spread = 0;
  // The server's resident memory at its peak during the runs less before the first, per connection
  // (user-space memory: socket buffers live in the kernel and are not counted).
  double memory_per_connection_bytes = 0;
  WrkTime time{};  // of the run with the median rate
};

struct ServeBenchReport {
  std::vector<ServerFigures> servers{};  // serve sendfile, splice, uring, copy, then nginx
  std::vector<WrkFigures> wrk{};         // our sendfile server, then nginx; empty without wrk
  bool pinned = false;                   // servers on CPU 0, clients on CPU 1
};

// Needs curl, nginx and wrk (capability_missing otherwise), and root for --veth.
Result<ServeBenchReport> run_serve_bench(const ServeBenchConfig& config);

// The records (serve-loopback or serve-veth per server, serve-wrk-4k per wrk row) and the table,
// each server also against nginx and against our copy server (serve_bench_report.cpp).
Report describe(const ServeBenchReport& report, const ServeBenchConfig& config);

// One line of where a wrk run's time went: servers on one CPU and wrk on the other, so a side
// near 100% is the limit (serve_bench_report.cpp).
std::string describe(const WrkTime& time);

}  // namespace zc::bench
