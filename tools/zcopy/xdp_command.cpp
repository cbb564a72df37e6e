// zcopy xdp: AF_XDP on one interface queue. count, echo and forward report once a second;
// capture writes a pcap file as tcpdump -w would, straight from the UMEM; bench measures receive
// paths side by side on a veth pair of its own.
//
// Every command takes the packets of its queue away from the kernel's stack for as long as it
// runs (the redirect program sends them all to the socket): unlike tcpdump, capture consumes
// what it records. The program leaves with the process, however it ends.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <span>

#include "bench/support/process.hpp"
#include "bench/xdp/xdp_bench.hpp"
#include "command.hpp"
#include "options.hpp"
#include "xdp_port.hpp"
#include "zcopy/core/net_device.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/xdp/packet_echo.hpp"
#include "zcopy/xdp/pcap_writer.hpp"

namespace zc::cli {
namespace {

using xdp::Frame;

constexpr std::size_t kBatch = 64;
constexpr std::uint32_t kCaptureFrames = 16384;  // 64 MiB
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

CommandResult run_count(const XdpSettings& settings) {
  auto queue = open_queue(settings);
  if (!queue) return std::unexpected(queue.error());
  xdp::Socket& socket = *queue->port.socket;
  catch_stop_signals();
  const StopRule stop(settings);
  SecondReporter reporter({&socket});
  const auto start = std::chrono::steady_clock::now();
  std::array<Frame, kBatch> batch;
  std::uint64_t packets = 0;
  while (!stop.done(packets)) {
    const std::size_t n = socket.receive(batch);
    if (n == 0) {  // into the kernel only when the ring is empty
      if (auto waited = socket.wait(kWait); !waited) return std::unexpected(waited.error());
    }
    packets += n;
    for (std::size_t i = 0; i < n; ++i) batch[i].reset();
    reporter.tick();
  }
  print_summary(socket, since(start));
  return kExitOk;
}

CommandResult run_echo(const XdpSettings& settings) {
  auto device = net_device(settings.interface);
  if (!device) return as_usage(device.error());
  if (!device->mac) {
    return fail(Errc::invalid_argument, "zcopy xdp echo",
                settings.interface + " has no Ethernet address to answer with");
  }
  auto queue = open_queue(settings);
  if (!queue) return std::unexpected(queue.error());
  xdp::Socket& socket = *queue->port.socket;
  catch_stop_signals();
  const StopRule stop(settings);
  SecondReporter reporter({&socket});
  const auto start = std::chrono::steady_clock::now();
  std::array<Frame, kBatch> batch;
  std::array<Frame, kBatch> replies;
  std::array<std::uint64_t, 4> by_kind{};
  std::uint64_t packets = 0;
  while (!stop.done(packets)) {
    const std::size_t n = socket.receive(batch);
    if (n == 0) {  // into the kernel only when the ring is empty
      if (auto waited = socket.wait(kWait); !waited) return std::unexpected(waited.error());
    }
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
    std::size_t sent = 0;
    while (sent < r) {
      auto taken = socket.send(std::span(replies).subspan(sent, r - sent));
      if (!taken) return std::unexpected(taken.error());
      if (*taken == 0) break;  // the tx ring is full: drop the rest, as a busy link would
      sent += *taken;
    }
    for (std::size_t i = sent; i < r; ++i) replies[i].reset();
    reporter.tick();
  }
  print_summary(socket, since(start));
  std::printf(
      "replied: %llu arp, %llu icmp-echo, %llu udp; %llu packets not answered\n",
      static_cast<unsigned long long>(by_kind[1]), static_cast<unsigned long long>(by_kind[2]),
      static_cast<unsigned long long>(by_kind[3]), static_cast<unsigned long long>(by_kind[0]));
  return kExitOk;
}

// Moves what `from` received onto `to`'s tx ring, frames and all.
Result<std::size_t> forward_once(xdp::Socket& from, xdp::Socket& to,
                                 std::array<Frame, kBatch>& batch) {
  const std::size_t n = from.receive(batch);
  std::size_t sent = 0;
  while (sent < n) {
    auto taken = to.send(std::span(batch).subspan(sent, n - sent));
    if (!taken) return std::unexpected(taken.error());
    if (*taken == 0) break;
    sent += *taken;
  }
  for (std::size_t i = sent; i < n; ++i) batch[i].reset();
  return n;
}

CommandResult run_forward(const XdpSettings& settings) {
  if (settings.to == settings.interface) {
    return usage_error("zcopy xdp forward", "--to must name another interface");
  }
  auto umem = make_umem(settings);
  if (!umem) return std::unexpected(umem.error());
  auto in = open_port(*umem, settings.interface, settings);
  if (!in) return std::unexpected(in.error());
  auto out = open_port(*umem, settings.to, settings);
  if (!out) return std::unexpected(out.error());
  xdp::Socket& a = *in->socket;
  xdp::Socket& b = *out->socket;
  catch_stop_signals();
  const StopRule stop(settings);
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
  return kExitOk;
}

CommandResult run_capture(const XdpSettings& settings) {
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
  catch_stop_signals();
  const StopRule stop(settings);
  std::array<Frame, kBatch> batch;
  Result<void> written;
  while (written && !stop.done(pcap->packets())) {
    std::size_t n = socket.receive(batch);
    if (n == 0) {
      if (auto waited = socket.wait(kWait); !waited) return std::unexpected(waited.error());
      continue;
    }
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
  return kExitOk;
}

void add_port_options(CLI::App& app, XdpSettings& s) {
  app.add_option("interface", s.interface, "The interface (in this network namespace)")->required();
  app.add_option("--queue", s.queue, "The receive queue to serve (default 0)")
      ->check(CLI::Range(0u, xdp::RedirectProgram::kMaxQueues - 1));
  app.add_option_function<std::string>(
         "--mode", [&s](const std::string& text) { s.mode = *xdp::parse_mode_choice(text); },
         "auto|zero-copy|native|skb: the bind to insist on (auto: the fastest that works)")
      ->check(accepted_by(xdp::parse_mode_choice, "auto, zero-copy, native or skb"))
      ->type_name("MODE");
  app.add_option("--frames", s.frames, "UMEM frames of 4 KiB (default 4096; capture 16384)")
      ->check(CLI::Range(64u, 1u << 20));
  app.add_option("-c,--count", s.count, "Stop after this many packets");
  app.add_option("--seconds", s.seconds, "Stop after this many seconds")
      ->check(CLI::Range(0.0, 1e7));
}

struct XdpBenchSettings {
  bench::XdpBenchConfig config;
  bool no_starvation = false, no_capture = false, json = false;
};

void add_bench_options(CLI::App& app, XdpBenchSettings& s) {
  app.add_option("--seconds", s.config.seconds, "Seconds of traffic per run (default 1)")
      ->check(CLI::Range(0.1, 600.0));
  app.add_option("--methods", s.config.methods,
                 "Receive methods to measure, in order (default af_xdp,af_packet,recvmmsg)")
      ->delimiter(',')
      ->check(CLI::IsMember({"af_xdp", "af_packet", "recvmmsg"}));
  app.add_option("--rounds", s.config.rounds, "Runs per method; figures are medians (default 3)")
      ->check(CLI::Range(1, 100));
  app.add_option("--size", s.config.size, "Frame bytes on the wire (default 64)")
      ->check(CLI::Range(60u, 1514u));
  app.add_option("--stall-ms", s.config.stall_ms,
                 "How long the starving consumer keeps its frames (default 100)")
      ->check(CLI::Range(10.0, 900.0));
  app.add_option("--capture-rates", s.config.capture_rates,
                 "Offered loads (pps) of the capture comparison; 0: as fast as it goes")
      ->delimiter(',')
      ->check(CLI::Range(0.0, 1e8));
  app.add_flag("--no-starvation", s.no_starvation, "Skip the starvation experiment");
  app.add_flag("--no-capture", s.no_capture, "Skip the comparison with tcpdump -w");
  app.add_flag("--json", s.json, "One JSON record per line instead of tables");
}

CommandResult run_bench(XdpBenchSettings s) {
  s.config.tool = bench::self_executable();
  s.config.starvation = !s.no_starvation;
  s.config.capture = !s.no_capture;
  auto report = bench::run_xdp_bench(s.config);
  if (!report) return std::unexpected(report.error());
  bench::describe(*report, s.config).print(stdout, s.json);
  return kExitOk;
}

}  // namespace

CommandRunner add_xdp_command(CLI::App& sub) {
  auto s = std::make_shared<XdpSettings>();
  sub.require_subcommand(1);
  CLI::App* count = sub.add_subcommand("count", "Count the packets of a queue, once a second");
  add_port_options(*count, *s);
  CLI::App* echo = sub.add_subcommand(
      "echo", "Answer ARP, ping and UDP on a queue from the frames the requests came in");
  add_port_options(*echo, *s);
  CLI::App* forward = sub.add_subcommand(
      "forward", "Bridge two interfaces: each one's frames leave by the other, never copied");
  add_port_options(*forward, *s);
  forward->add_option("--to", s->to, "The other interface")->required();
  CLI::App* capture = sub.add_subcommand(
      "capture", "Write a queue's packets to a pcap file (tcpdump -r reads it), as they arrive");
  add_port_options(*capture, *s);
  capture->add_option("-w", s->write_to, "The pcap file to write ('-': stdout)")->required();
  capture->add_option("--snaplen", s->snaplen, "Bytes kept of each packet (default 262144)")
      ->check(CLI::Range(1u, xdp::PcapWriter::kMaxSnaplen));
  auto bench_settings = std::make_shared<XdpBenchSettings>();
  CLI::App* bench_app = sub.add_subcommand(
      "bench", "Receive rate and CPU per packet: AF_XDP, AF_PACKET and recvmmsg on veth");
  add_bench_options(*bench_app, *bench_settings);
  return [s, count, echo, forward, capture, bench_app, bench_settings]() -> CommandResult {
    if (bench_app->parsed()) return run_bench(*bench_settings);
    // A capture writes to a file, which may stall for milliseconds: it buffers deeper.
    if (capture->parsed() && capture->count("--frames") == 0) s->frames = kCaptureFrames;
    if (count->parsed()) return run_count(*s);
    if (echo->parsed()) return run_echo(*s);
    if (forward->parsed()) return run_forward(*s);
    return run_capture(*s);
  };
}

}  // namespace zc::cli
