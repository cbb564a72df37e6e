// The loops of `zcopy xdp` (xdp_queue_run.hpp). Every run takes the packets of its queue away from
// the kernel's stack for as long as it runs (the redirect program sends them all to the socket):
// unlike tcpdump, capture consumes what it records. The program leaves with the process, however
// it ends.
#include "bench/xdp/xdp_queue_run.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <span>

#include "zcopy/core/net_device.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/xdp/packet_echo.hpp"
#include "zcopy/xdp/pcap_writer.hpp"

namespace zc::bench {
namespace {

using xdp::Frame;

constexpr std::size_t kBatch = 64;
constexpr auto kWait = std::chrono::milliseconds(100);

void print_summary(const xdp::Socket& socket, double seconds) {
  const xdp::SocketStatistics s = socket.statistics();
  std::printf("%s: rx %llu packets (%s), tx %llu, in %.2f s; dropped %llu, invalid %llu\n",
              socket.mode_line().substr(0, socket.mode_line().find(':')).c_str(),
              static_cast<unsigned long long>(s.rx_packets), format_bytes(s.rx_bytes).c_str(),
              static_cast<unsigned long long>(s.tx_packets), seconds,
              static_cast<unsigned long long>(s.dropped()),
              static_cast<unsigned long long>(s.invalid()));
}

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Takes what the rx ring holds; into the kernel (for up to kWait) only when it is empty.
Result<std::size_t> receive_or_wait(xdp::Socket& socket, std::span<Frame> batch) {
  const std::size_t n = socket.receive(batch);
  if (n == 0) {
    if (auto waited = socket.wait(kWait); !waited) return std::unexpected(waited.error());
  }
  return n;
}

// Puts `frames` on the tx ring and releases what did not fit, as a busy link drops it.
Result<void> send_or_drop(xdp::Socket& socket, std::span<Frame> frames) {
  std::size_t sent = 0;
  while (sent < frames.size()) {
    auto taken = socket.send(frames.subspan(sent));
    if (!taken) return std::unexpected(taken.error());
    if (*taken == 0) break;
    sent += *taken;
  }
  for (Frame& f : frames.subspan(sent)) f.reset();
  return {};
}

}  // namespace

Result<void> run_xdp_count(const XdpSettings& settings, const XdpStop& stop_flag) {
  auto queue = open_queue(settings);
  if (!queue) return std::unexpected(queue.error());
  xdp::Socket& socket = *queue->port.socket;
  stop_flag.arm();
  const StopRule stop(settings, *stop_flag.flag);
  SecondReporter reporter({&socket});
  const auto start = std::chrono::steady_clock::now();
  std::array<Frame, kBatch> batch;
  std::uint64_t packets = 0;
  while (!stop.done(packets)) {
    auto received = receive_or_wait(socket, batch);
    if (!received) return std::unexpected(received.error());
    const std::size_t n = *received;
    packets += n;
    for (std::size_t i = 0; i < n; ++i) batch[i].reset();
    reporter.tick();
  }
  print_summary(socket, since(start));
  return {};
}

Result<void> run_xdp_echo(const XdpSettings& settings, const XdpStop& stop_flag) {
  auto device = net_device(settings.interface);
  if (!device) return as_usage(device.error());
  if (!device->mac) {
    return fail(Errc::invalid_argument, "zcopy xdp echo",
                settings.interface + " has no Ethernet address to answer with");
  }
  auto queue = open_queue(settings);
  if (!queue) return std::unexpected(queue.error());
  xdp::Socket& socket = *queue->port.socket;
  stop_flag.arm();
  const StopRule stop(settings, *stop_flag.flag);
  SecondReporter reporter({&socket});
  const auto start = std::chrono::steady_clock::now();
  std::array<Frame, kBatch> batch;
  std::array<Frame, kBatch> replies;
  std::array<std::uint64_t, 4> by_kind{};
  std::uint64_t packets = 0;
  while (!stop.done(packets)) {
    auto received = receive_or_wait(socket, batch);
    if (!received) return std::unexpected(received.error());
    const std::size_t n = *received;
    packets += n;
    std::size_t r = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const xdp::EchoReply kind = xdp::echo_in_place(batch[i].data(), *device->mac);
      ++by_kind[static_cast<std::size_t>(kind)];
      if (kind == xdp::EchoReply::none) {
        batch[i].reset();
      } else {
        replies[r++] = std::move(batch[i]);  // the request's frame carries the reply
      }
    }
    if (auto sent = send_or_drop(socket, std::span(replies).first(r)); !sent) {
      return std::unexpected(sent.error());
    }
    reporter.tick();
  }
  print_summary(socket, since(start));
  std::printf(
      "replied: %llu arp, %llu icmp-echo, %llu udp; %llu packets not answered\n",
      static_cast<unsigned long long>(by_kind[1]), static_cast<unsigned long long>(by_kind[2]),
      static_cast<unsigned long long>(by_kind[3]), static_cast<unsigned long long>(by_kind[0]));
  return {};
}

namespace {

// Moves what `from` received onto `to`'s tx ring, frames and all.
Result<std::size_t> forward_once(xdp::Socket& from, xdp::Socket& to,
                                 std::array<Frame, kBatch>& batch) {
  const std::size_t n = from.receive(batch);
  if (auto sent = send_or_drop(to, std::span(batch).first(n)); !sent) {
    return std::unexpected(sent.error());
  }
  return n;
}

}  // namespace

Result<void> run_xdp_forward(const XdpSettings& settings, const XdpStop& stop_flag) {
  if (settings.to == settings.interface) {
    return fail(Errc::usage, "zcopy xdp forward", "--to must name another interface");
  }
  auto umem = make_umem(settings);
  if (!umem) return std::unexpected(umem.error());
  auto in = open_port(*umem, settings.interface, settings);
  if (!in) return std::unexpected(in.error());
  auto out = open_port(*umem, settings.to, settings);
  if (!out) return std::unexpected(out.error());
  xdp::Socket& a = *in->socket;
  xdp::Socket& b = *out->socket;
  stop_flag.arm();
  const StopRule stop(settings, *stop_flag.flag);
  SecondReporter reporter({&a, &b});
  const auto start = std::chrono::steady_clock::now();
  std::array<Frame, kBatch> batch;
  std::uint64_t packets = 0;
  std::array<pollfd, 2> fds{pollfd{a.fd(), POLLIN, 0}, pollfd{b.fd(), POLLIN, 0}};
  while (!stop.done(packets)) {
    ::poll(fds.data(), fds.size(), static_cast<int>(kWait.count()));
    auto ab = forward_once(a, b, batch);
    if (!ab) return std::unexpected(ab.error());
    auto ba = forward_once(b, a, batch);
    if (!ba) return std::unexpected(ba.error());
    packets += *ab + *ba;
    reporter.tick();
  }
  const double seconds = since(start);
  print_summary(a, seconds);
  print_summary(b, seconds);
  return {};
}

Result<void> run_xdp_capture(const XdpSettings& asked, const XdpStop& stop_flag) {
  // A write to the file can stall (the page cache, the scheduler): the kernel then fills the
  // rx ring from what the fill ring holds, so every frame but the batch in hand goes there.
  XdpSettings settings = asked;
  settings.receive_only = true;
  auto pcap =
      settings.write_to == "-"
          ? xdp::PcapWriter::adopt(Fd::adopt(::dup(STDOUT_FILENO)), {.snaplen = settings.snaplen})
          : xdp::PcapWriter::create(settings.write_to, {.snaplen = settings.snaplen});
  if (!pcap) return std::unexpected(pcap.error());
  auto queue = open_queue(settings);
  if (!queue) return std::unexpected(queue.error());
  xdp::Socket& socket = *queue->port.socket;
  std::fprintf(stderr, "zcopy xdp capture: listening on %s queue %u, snapshot length %u bytes\n",
               settings.interface.c_str(), settings.queue, settings.snaplen);
  stop_flag.arm();
  const StopRule stop(settings, *stop_flag.flag);
  // After a stall the rx ring holds thousands: a batch as deep as one writev takes.
  std::array<Frame, xdp::PcapWriter::kRecordsPerWrite> batch;
  Result<void> written;
  while (written && !stop.done(pcap->packets())) {
    auto received = receive_or_wait(socket, batch);
    if (!received) return std::unexpected(received.error());
    std::size_t n = *received;
    if (n == 0) continue;
    if (settings.count > 0) {
      n = static_cast<std::size_t>(std::min<std::uint64_t>(n, settings.count - pcap->packets()));
    }
    written = pcap->write(std::span(batch).first(n));
    for (Frame& f : batch) f.reset();
  }
  // As tcpdump reports on exit, on stderr.
  const xdp::SocketStatistics s = socket.statistics();
  std::fprintf(stderr, "%llu packets captured\n%llu packets dropped by kernel\n",
               static_cast<unsigned long long>(pcap->packets()),
               static_cast<unsigned long long>(s.dropped()));
  if (!written) return std::unexpected(written.error());
  return {};
}

}  // namespace zc::bench
