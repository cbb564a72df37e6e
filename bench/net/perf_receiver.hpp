// bench/net/perf_receiver.hpp: the receiving end of `zcopy perf`: counts what arrives on a TCP
// listener (one connection per run) or a UDP socket (one burst per run, ended by a second of
// silence), like iperf3's server.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::bench {

struct ReceivedRun {
  std::uint64_t bytes = 0;
  std::uint64_t datagrams = 0;  // UDP only
  double seconds = 0;           // TCP: accept to close; UDP: first to last datagram
};

// "perf server: received 1.0 GiB in 0.52 s (1.9 GiB/s)", or in N datagrams for UDP.
std::string describe(const ReceivedRun& run, bool udp);

class PerfReceiver {
 public:
  // Binds host:port (TCP listens; UDP gets a 64 MiB receive buffer where allowed).
  static Result<PerfReceiver> open(const std::string& host, std::uint16_t port, bool udp);
  // "tcp 127.0.0.1:5202" or "udp ...", the address actually bound.
  const std::string& address() const noexcept { return address_; }
  // Waits for the next run and counts it to its end.
  Result<ReceivedRun> next();

 private:
  PerfReceiver(Fd socket, bool udp, std::string address)
      : socket_(std::move(socket)), udp_(udp), address_(std::move(address)), buffer_(1 << 20) {}
  Fd socket_;
  bool udp_;
  std::string address_;
  std::vector<std::byte> buffer_;
};

}  // namespace zc::bench
