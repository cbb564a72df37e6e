// bench/net/perf_sender.hpp: the sending end of `zcopy perf`: memory-to-socket throughput of one
// send method, like iperf3's client, with CPU seconds per GB and the copy ledger.
//
// It sends `size` bytes per call from a working set it never modifies (so buffers need no waiting
// before reuse) for `seconds`, then waits until the receiver has read everything.
#pragma once

#include <cstdint>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/net/zerocopy_sender.hpp"

namespace zc::bench {

struct PerfSendConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 5202;
  bool udp = false;
  std::string method = "auto";  // a net::SendMethod name, or "sendfile" (from a memfd)
  std::uint64_t size = 128 * kKiB;
  std::uint64_t working_set = 256 * kMiB;
  std::uint64_t threshold = 12 * kKiB;
  std::uint64_t max_outstanding = 64 * kMiB;
  std::uint64_t trial_epoch = net::SenderOptions{}.trial_epoch_bytes;
  std::uint16_t segment = 1472;  // UDP datagram size
  double seconds = 5;
  bool fixed = true;  // uring-zc, auto: register the working set
};

struct PerfSendReport {
  TransferLedger ledger{};
  net::SenderStats stats{};  // empty for sendfile
  std::uint64_t calls = 0;   // zero-copy (or sendfile) calls made
  bool sendfile = false;
};

Result<PerfSendReport> run_perf_sender(const PerfSendConfig& config);

// The ledger's summary and, but for sendfile, the sender's counts: lines for people.
std::string describe(const PerfSendReport& report, const PerfSendConfig& config);
// One JSON record whose size_bytes is the size of one send and whose bytes is the total.
std::string json_line(const PerfSendReport& report, const PerfSendConfig& config);

}  // namespace zc::bench
