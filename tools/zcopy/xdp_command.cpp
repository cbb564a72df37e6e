// zcopy xdp: AF_XDP on one interface queue. count, echo and forward report once a second;
// capture writes a pcap file as tcpdump -w would, straight from the UMEM; bench measures receive
// paths side by side on a veth pair of its own.
//
// The loops are bench/xdp/xdp_queue_run.hpp's: this file parses and dispatches.
#include <cstdio>
#include <memory>

#include "bench/support/process.hpp"
#include "bench/xdp/xdp_bench.hpp"
#include "bench/xdp/xdp_queue_run.hpp"
#include "command.hpp"
#include "options.hpp"
#include "stop_signals.hpp"
#include "zcopy/xdp/pcap_writer.hpp"

namespace zc::cli {
namespace {

using bench::XdpSettings;

constexpr std::uint32_t kCaptureFrames = 16384;  // 64 MiB

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
  app.add_flag("--napi-thread", s.config.napi_thread,
               "Receive: veth's NAPI in a kernel thread on the receiver's CPU");
  app.add_flag("--realtime", s.config.realtime,
               "Receive: sender, receiver and NAPI thread under SCHED_FIFO (a busy machine)");
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
    const bench::XdpStop stop{.flag = &g_stop, .arm = catch_stop_signals};
    auto run = count->parsed()     ? bench::run_xdp_count
               : echo->parsed()    ? bench::run_xdp_echo
               : forward->parsed() ? bench::run_xdp_forward
                                   : bench::run_xdp_capture;
    if (auto ran = run(*s, stop); !ran) return std::unexpected(ran.error());
    return kExitOk;
  };
}

}  // namespace zc::cli
