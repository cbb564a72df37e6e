#include "bench/net/perf_receiver.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <chrono>

#include "bench/support/report.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/net/endpoint.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::bench {

using Clock = std::chrono::steady_clock;

Result<PerfReceiver> PerfReceiver::open(const std::string& host, std::uint16_t port, bool udp) {
  if (udp) {
    auto addresses = net::resolve({host, port});
    if (!addresses) return std::unexpected(addresses.error());
    const net::SocketAddress& at = addresses->front();
    auto fd = sys_call("socket(SOCK_DGRAM)",
                       [&] { return ::socket(at.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0); });
    if (!fd) return std::unexpected(fd.error());
    Fd socket = Fd::adopt(*fd);
    const int big = 64 << 20;
    ::setsockopt(socket.get(), SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
    if (auto rc = sys_call({"bind", socket.get()},
                           [&] { return ::bind(socket.get(), at.get(), at.length()); });
        !rc) {
      return std::unexpected(std::move(rc.error()).with_context("udp " + at.str()));
    }
    return PerfReceiver(std::move(socket), true, "udp " + at.str());
  }
  auto listener = net::listen_tcp(net::Endpoint{host, port}, {.nonblocking = false});
  if (!listener) return std::unexpected(listener.error());
  auto bound = net::local_address(listener->get());
  if (!bound) return std::unexpected(bound.error());
  return PerfReceiver(std::move(*listener), false, "tcp " + bound->str());
}

Result<ReceivedRun> PerfReceiver::next() {
  ReceivedRun run;
  if (udp_) {
    Clock::time_point first{}, last{};
    for (;;) {
      pollfd p{.fd = socket_.get(), .events = POLLIN, .revents = 0};
      const int ready = ::poll(&p, 1, run.datagrams == 0 ? -1 : 1000);
      if (ready == 0) break;  // a second of silence ends a run
      const ssize_t n = ::recv(socket_.get(), buffer_.data(), buffer_.size(), MSG_DONTWAIT);
      if (n < 0) continue;
      if (run.datagrams++ == 0) first = Clock::now();
      last = Clock::now();
      run.bytes += static_cast<std::uint64_t>(n);
    }
    run.seconds = std::chrono::duration<double>(last - first).count();
    return run;
  }
  auto accepted = sys_call({"accept", socket_.get()}, [&] {
    return ::accept4(socket_.get(), nullptr, nullptr, SOCK_CLOEXEC);
  });
  if (!accepted) return std::unexpected(accepted.error());
  Fd connection = Fd::adopt(*accepted);
  const auto start = Clock::now();
  for (;;) {
    auto n = sys_call({"recv", connection.get()},
                      [&] { return ::recv(connection.get(), buffer_.data(), buffer_.size(), 0); });
    if (!n || *n == 0) break;
    run.bytes += static_cast<std::uint64_t>(*n);
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

std::string describe(const ReceivedRun& run, bool udp) {
  const double rate = run.seconds > 0 ? static_cast<double>(run.bytes) / run.seconds : 0;
  if (udp) {
    return format_text("perf server: received %s in %llu datagrams (%s)",
                       format_bytes(run.bytes).c_str(),
                       static_cast<unsigned long long>(run.datagrams), format_rate(rate).c_str());
  }
  return format_text("perf server: received %s in %.2f s (%s)", format_bytes(run.bytes).c_str(),
                     run.seconds, format_rate(rate).c_str());
}

}  // namespace zc::bench
