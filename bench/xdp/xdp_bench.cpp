#include "bench/xdp/xdp_bench.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <optional>
#include <thread>

#include "bench/support/cpu_accounting.hpp"
#include "bench/support/data.hpp"
#include "bench/support/packets.hpp"
#include "bench/support/process.hpp"
#include "bench/support/stats.hpp"
#include "bench/support/veth_pair.hpp"
#include "bench/xdp/napi_thread.hpp"
#include "bench/xdp/packet_rings.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/xdp/redirect_program.hpp"
#include "zcopy/xdp/socket.hpp"
#include "zcopy/xdp/umem.hpp"

namespace zc::bench {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint16_t kPort = 9000;
constexpr auto kPoll = std::chrono::milliseconds(10);
// --realtime: SCHED_FIFO priorities. The receiver stands above the NAPI thread it shares its CPU
// with: woken, it empties its queue and sleeps, so the thread gets the rest and neither starves
// (at one priority the thread, busy while the sender sends, would never let the receiver run).
constexpr int kSenderPriority = 10;
constexpr int kNapiPriority = 10;
constexpr int kReceiverPriority = 11;
// A receiver is done once nothing came for this long after something did.
constexpr auto kQuiet = std::chrono::milliseconds(300);

// What a receiver child sends back through its pipe (plain bytes: same binary on both ends).
struct ReceiverResult {
  std::uint64_t packets = 0;
  std::uint64_t dropped = 0;
  double first_s = 0, last_s = 0;  // of the first and last packet, since the start
  double cpu_s = 0;
  double first_drop_ms = -1, recovery_ms = -1;  // starvation only
  std::array<std::uint32_t, 96> drop_buckets{};
  std::uint32_t buckets = 0;
  std::array<char, 240> detail{};
};

struct Pipe {
  Fd read, write;
  static Pipe make() {
    int fds[2] = {-1, -1};
    if (::pipe2(fds, O_CLOEXEC) != 0) return {};
    return {Fd::adopt(fds[0]), Fd::adopt(fds[1])};
  }
};

bool write_all(int fd, const void* data, std::size_t size) {
  return ::write(fd, data, size) == static_cast<ssize_t>(size);  // a pipe: whole up to PIPE_BUF
}

template <class T>
bool read_exact(int fd, T& value) {
  std::size_t got = 0;
  auto* bytes = reinterpret_cast<char*>(&value);
  while (got < sizeof value) {
    const ssize_t n = ::read(fd, bytes + got, sizeof value - got);
    if (n <= 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

void pin_to(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(cpu), &set);
  ::sched_setaffinity(0, sizeof set, &set);
}

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Counts arrivals; the first and last are the window the rate is taken over.
struct Arrivals {
  Clock::time_point start = Clock::now();
  Clock::time_point last_seen = start;
  ReceiverResult result;
  void add(std::uint64_t n) {
    if (n == 0) return;
    last_seen = Clock::now();
    if (result.packets == 0) result.first_s = since(start);
    result.last_s = since(start);
    result.packets += n;
  }
  bool quiet(double limit_s) const {
    if (since(start) > limit_s) return true;
    return result.packets > 0 && Clock::now() - last_seen > kQuiet;
  }
};

void set_detail(ReceiverResult& r, const std::string& text) {
  std::strncpy(r.detail.data(), text.c_str(), r.detail.size() - 1);
}

// Each receiver runs in a child in the receiving namespace: it says it is ready with a byte,
// receives until the traffic has been quiet for a while, then writes its ReceiverResult.
using ReceiverBody = std::function<ReceiverResult(int ready_fd)>;

ReceiverResult receive_af_xdp(const std::string& interface, int ready, double limit_s) {
  ReceiverResult failed;
  // Buffering on the order of the other receivers' (a TPACKET_V3 ring of 16 MiB holds some
  // 100k small packets, a 16 MiB socket buffer some 20k): a receiver that the scheduler wakes
  // late must not lose packets for want of frames alone.
  auto umem =
      xdp::Umem::create({.frame_count = 16384, .fill_ring_size = 8192, .completion_ring_size = 64});
  if (!umem) return set_detail(failed, umem.error().message()), failed;
  auto program = xdp::RedirectProgram::attach(interface);
  if (!program) return set_detail(failed, program.error().message()), failed;
  auto socket = xdp::Socket::open(*umem, *program, {.rx_ring_size = 8192, .tx_ring_size = 64});
  if (!socket) return set_detail(failed, socket.error().message()), failed;
  write_all(ready, "r", 1);
  const CpuTime cpu = process_cpu_time();
  Arrivals arrivals;
  std::array<xdp::Frame, 64> batch;
  while (!arrivals.quiet(limit_s)) {
    const std::size_t n = socket->receive(batch);
    for (std::size_t i = 0; i < n; ++i) batch[i].reset();
    arrivals.add(n);
    if (n == 0) (void)socket->wait(kPoll);  // into the kernel only when the ring is empty
  }
  arrivals.result.cpu_s = process_cpu_time().total() - cpu.total();
  arrivals.result.dropped = socket->statistics().dropped();
  set_detail(arrivals.result, socket->mode_line());
  return arrivals.result;
}

// With threaded NAPI, the receivers that need no program of their own attach the redirect
// program with no socket (every packet passes): veth polls a NAPI only while a program is there,
// and so every method's packets take the same path up to where they part.
Result<std::optional<xdp::RedirectProgram>> napi_program(const std::string& interface,
                                                         bool wanted) {
  if (!wanted) return std::optional<xdp::RedirectProgram>();
  auto program = xdp::RedirectProgram::attach(interface);
  if (!program) return std::unexpected(program.error());
  return std::optional<xdp::RedirectProgram>(std::move(*program));
}

ReceiverResult receive_af_packet(const std::string& interface, int ready, double limit_s,
                                 bool napi) {
  ReceiverResult failed;
  auto program = napi_program(interface, napi);
  if (!program) return set_detail(failed, program.error().message()), failed;
  auto ring = PacketRxRing::open(interface);
  if (!ring) return set_detail(failed, ring.error().message()), failed;
  write_all(ready, "r", 1);
  const CpuTime cpu = process_cpu_time();
  Arrivals arrivals;
  while (!arrivals.quiet(limit_s)) arrivals.add(ring->drain(kPoll));
  arrivals.result.cpu_s = process_cpu_time().total() - cpu.total();
  arrivals.result.dropped = ring->dropped();
  set_detail(arrivals.result, "TPACKET_V3, 64 blocks of 256 KiB");
  return arrivals.result;
}

ReceiverResult receive_recvmmsg(const std::string& interface, int ready, double limit_s,
                                bool napi) {
  ReceiverResult failed;
  auto program = napi_program(interface, napi);
  if (!program) return set_detail(failed, program.error().message()), failed;
  const Fd fd = Fd::adopt(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int buffer = 16 << 20;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(kPort);
  if (!fd || ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    set_detail(failed, std::string("UDP socket: ") + std::strerror(errno));
    return failed;
  }
  write_all(ready, "r", 1);
  constexpr std::size_t kBatch = 64;
  std::vector<std::array<std::byte, 2048>> buffers(kBatch);
  std::array<iovec, kBatch> iov{};
  std::array<mmsghdr, kBatch> messages{};
  for (std::size_t i = 0; i < kBatch; ++i) {
    iov[i] = {buffers[i].data(), buffers[i].size()};
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  const CpuTime cpu = process_cpu_time();
  Arrivals arrivals;
  while (!arrivals.quiet(limit_s)) {
    const int n = ::recvmmsg(fd.get(), messages.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (n > 0) {
      arrivals.add(static_cast<std::uint64_t>(n));
      continue;
    }
    pollfd p{fd.get(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(kPoll.count()));
  }
  arrivals.result.cpu_s = process_cpu_time().total() - cpu.total();
  set_detail(arrivals.result, "UDP socket, 16 MiB receive buffer, 64 per call");
  return arrivals.result;
}

// The starvation consumer: returns frames at once, except from 200 ms after the first packet
// for `stall_ms`, when it keeps every frame it receives; drops are sampled every 10 ms.
ReceiverResult receive_starving(const std::string& interface, int ready, std::uint32_t frames,
                                std::uint32_t fill, double stall_ms, double limit_s) {
  ReceiverResult failed;
  auto umem = xdp::Umem::create(
      {.frame_count = frames, .fill_ring_size = fill, .completion_ring_size = fill});
  if (!umem) return set_detail(failed, umem.error().message()), failed;
  auto program = xdp::RedirectProgram::attach(interface);
  if (!program) return set_detail(failed, program.error().message()), failed;
  auto socket = xdp::Socket::open(*umem, *program);
  if (!socket) return set_detail(failed, socket.error().message()), failed;
  write_all(ready, "r", 1);
  Arrivals arrivals;
  std::array<xdp::Frame, 64> batch;
  std::vector<xdp::Frame> held;
  held.reserve(frames);
  std::optional<Clock::time_point> stall;
  std::uint64_t dropped_at_stall = 0, last_dropped = 0;
  auto next_sample = Clock::now();
  ReceiverResult& r = arrivals.result;
  constexpr double kBucketMs = 10;
  while (!arrivals.quiet(limit_s)) {
    const std::size_t n = socket->receive(batch);
    if (n == 0) (void)socket->wait(std::chrono::milliseconds(1));
    arrivals.add(n);
    if (!stall && r.packets > 0 && r.last_s - r.first_s > 0.2) {
      stall = Clock::now();
      dropped_at_stall = last_dropped = socket->statistics().dropped();
    }
    const double in_stall_ms =
        stall ? std::chrono::duration<double, std::milli>(Clock::now() - *stall).count() : -1;
    const bool holding = stall && in_stall_ms < stall_ms;
    for (std::size_t i = 0; i < n; ++i) {
      if (holding) {
        held.push_back(std::move(batch[i]));
      } else {
        batch[i].reset();
      }
    }
    if (!holding) held.clear();  // every frame back at once
    if (stall && Clock::now() >= next_sample && r.buckets < r.drop_buckets.size()) {
      const std::uint64_t dropped = socket->statistics().dropped();
      const auto bucket = static_cast<std::uint32_t>(in_stall_ms / kBucketMs);
      if (bucket < r.drop_buckets.size()) {
        r.drop_buckets[bucket] += static_cast<std::uint32_t>(dropped - last_dropped);
        r.buckets = std::max(r.buckets, bucket + 1);
      }
      if (dropped > last_dropped) {
        if (r.first_drop_ms < 0) r.first_drop_ms = in_stall_ms;
        if (in_stall_ms >= stall_ms) r.recovery_ms = in_stall_ms - stall_ms;
      }
      last_dropped = dropped;
      next_sample = Clock::now() + std::chrono::milliseconds(1);
    }
  }
  r.dropped = socket->statistics().dropped() - dropped_at_stall;
  if (r.first_drop_ms >= 0 && r.recovery_ms < 0) r.recovery_ms = 0;
  set_detail(r, socket->mode_line());
  return r;
}

struct Run {
  ReceiverResult received;
  SendResult sent;
  double softirq_s = 0;
  double napi_s = 0;  // the NAPI kthread's CPU (--napi-thread)
};

// CPU of the NAPI threads polling for the receiver, summed (0 when they are gone).
double cpu_of(const std::vector<pid_t>& threads) {
  double total = 0;
  for (const pid_t pid : threads) total += process_cpu(pid).total();
  return total;
}

// One run: the receiver up in namespace a, then the sender in b for `seconds` at `pps`.
Result<Run> run_once(const VethPair& link, const std::vector<std::byte>& frame, double seconds,
                     double pps, const std::function<ReceiverResult(int)>& receiver,
                     bool pin_napi = false, bool realtime = false) {
  const CpuPlan cpus = server_client_cpus();
  const std::string interface = link.name(VethPair::a);
  const std::vector<pid_t> napi_before = pin_napi ? napi_threads(interface) : std::vector<pid_t>{};
  Pipe ready = Pipe::make(), results = Pipe::make(), sent = Pipe::make();
  if (!ready.read || !results.read || !sent.read) return fail_errno(errno, "pipe2");
  auto child = Process::fork([&] {
    if (!link.enter(VethPair::a)) return 77;
    pin_to(cpus.server);
    if (realtime && !make_realtime(0, kReceiverPriority)) return 1;
    const ReceiverResult r = receiver(ready.write.get());
    return write_all(results.write.get(), &r, sizeof r) ? 0 : 1;
  });
  if (!child) return std::unexpected(child.error());
  ready.write.reset();
  results.write.reset();
  char byte = 0;
  if (::read(ready.read.get(), &byte, 1) != 1) {
    ReceiverResult r;
    (void)read_exact(results.read.get(), r);
    child->wait();
    return fail(Errc::system, "xdp bench receiver", r.detail.data());
  }
  std::vector<pid_t> napi;
  if (pin_napi && cpus.pinned()) {
    // The receiver has attached its program, and with it veth made the NAPI and its thread.
    auto pinned =
        pin_new_napi_threads(interface, napi_before, cpus.server, realtime ? kNapiPriority : 0);
    if (!pinned || pinned->empty()) {
      child->kill();
      return pinned ? fail(Errc::system, "threaded NAPI", "no napi/" + interface + " thread")
                    : std::unexpected(pinned.error());
    }
    napi = std::move(*pinned);
  }
  const double napi_cpu_before = cpu_of(napi);
  const double softirq_before = softirq_seconds(-1);
  auto sender = Process::fork([&] {
    if (!link.enter(VethPair::b)) return 77;
    pin_to(cpus.client);
    if (realtime && !make_realtime(0, kSenderPriority)) return 1;
    auto tx = PacketTxRing::open(link.name(VethPair::b));
    if (!tx) {
      std::fprintf(stderr, "%s\n", tx.error().message().c_str());
      return 1;
    }
    auto r = tx->send_for(frame, std::chrono::duration<double>(seconds), pps);
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().message().c_str());
      return 1;
    }
    return write_all(sent.write.get(), &*r, sizeof *r) ? 0 : 1;
  });
  if (!sender) return std::unexpected(sender.error());
  sent.write.reset();
  Run run;
  const bool got_sent = read_exact(sent.read.get(), run.sent);
  if (auto done = sender->expect_success("xdp bench sender"); !done || !got_sent) {
    child->kill();
    return done ? fail(Errc::system, "xdp bench sender", "no result")
                : std::unexpected(done.error());
  }
  if (!napi.empty()) {
    // The threads leave with the receiver's program: read them while the receiver waits out
    // its quiet time, once the last packets have been polled.
    std::this_thread::sleep_for(kQuiet / 3);
    run.napi_s = cpu_of(napi) - napi_cpu_before;
  }
  const bool got = read_exact(results.read.get(), run.received);
  if (auto done = child->expect_success("xdp bench receiver"); !done || !got) {
    return done ? fail(Errc::system, "xdp bench receiver", "no result")
                : std::unexpected(done.error());
  }
  run.softirq_s = softirq_seconds(-1) - softirq_before;
  return run;
}

Result<std::vector<ReceiveFigures>> measure_receive(const VethPair& link,
                                                    const std::vector<std::byte>& frame,
                                                    const XdpBenchConfig& config) {
  const std::string interface = link.name(VethPair::a);
  const double limit = config.seconds + 10;
  const std::vector<std::string>& methods = config.methods;
  std::vector<std::vector<Run>> runs(methods.size());
  for (int round = 0; round < config.rounds; ++round) {
    for (std::size_t m = 0; m < methods.size(); ++m) {
      const std::string& method = methods[m];
      const bool napi = config.napi_thread;
      auto run = run_once(
          link, frame, config.seconds, 0,
          [&](int ready) {
            if (method == "af_xdp") return receive_af_xdp(interface, ready, limit);
            if (method == "af_packet") return receive_af_packet(interface, ready, limit, napi);
            return receive_recvmmsg(interface, ready, limit, napi);
          },
          napi, config.realtime);
      if (!run) return std::unexpected(run.error());
      runs[m].push_back(*run);
    }
  }
  std::vector<ReceiveFigures> figures;
  for (std::size_t m = 0; m < methods.size(); ++m) {
    std::vector<double> rate, offered, cpu, softirq, loss, dropped, pushed_back, napi;
    for (const Run& run : runs[m]) {
      const ReceiverResult& r = run.received;
      const double window = std::max(r.last_s - r.first_s, 1e-3);
      const double packets = static_cast<double>(std::max<std::uint64_t>(r.packets, 1));
      rate.push_back(static_cast<double>(r.packets) / window / 1e6);
      offered.push_back(static_cast<double>(run.sent.sent) / std::max(run.sent.seconds, 1e-3) /
                        1e6);
      cpu.push_back(r.cpu_s / packets * 1e9);
      dropped.push_back(static_cast<double>(r.dropped));
      pushed_back.push_back(static_cast<double>(run.sent.pushed_back) /
                            static_cast<double>(std::max<std::uint64_t>(run.sent.calls, 1)));
      softirq.push_back(run.softirq_s / packets * 1e9);
      napi.push_back(run.napi_s / packets * 1e9);
      // A stray frame or two (an ARP probe) can make received exceed sent: no loss then.
      loss.push_back(run.sent.sent == 0
                         ? 0
                         : std::max(0.0, 1.0 - static_cast<double>(r.packets) /
                                                   static_cast<double>(run.sent.sent)));
    }
    figures.push_back({.method = methods[m],
                       .mpps = median(rate),
                       .offered_mpps = median(offered),
                       .cpu_ns_per_packet = median(cpu),
                       .softirq_ns_per_packet = median(softirq),
                       .napi_ns_per_packet = median(napi),
                       .loss = median(loss),
                       .socket_dropped = median(dropped),
                       .pushed_back = median(pushed_back),
                       .spread = spread(rate),
                       .detail = runs[m].front().received.detail.data()});
  }
  return figures;
}

Result<std::vector<StarvationFigures>> measure_starvation(const VethPair& link,
                                                          const std::vector<std::byte>& frame,
                                                          const XdpBenchConfig& config) {
  constexpr double kRate = 300e3;  // pps, well below what AF_XDP takes on veth
  const std::string interface = link.name(VethPair::a);
  const double seconds = 0.3 + config.stall_ms / 1e3 + 0.4;
  std::vector<StarvationFigures> figures;
  for (const auto& [frames, fill] :
       {std::pair<std::uint32_t, std::uint32_t>{1024, 512}, {4096, 2048}, {16384, 8192}}) {
    auto run = run_once(link, frame, seconds, kRate, [&](int ready) {
      return receive_starving(interface, ready, frames, fill, config.stall_ms, seconds + 10);
    });
    if (!run) return std::unexpected(run.error());
    const ReceiverResult& r = run->received;
    StarvationFigures f{
        .frames = frames,
        .fill_ring = fill,
        .offered_pps = static_cast<double>(run->sent.sent) / std::max(run->sent.seconds, 1e-3),
        .first_drop_ms = r.first_drop_ms,
        .dropped = r.dropped,
        .recovery_ms = r.recovery_ms};
    for (std::uint32_t i = 0; i < r.buckets; ++i) {
      if (!f.drops_over_time.empty()) f.drops_over_time += ' ';
      f.drops_over_time += std::to_string(r.drop_buckets[i]);
    }
    figures.push_back(std::move(f));
  }
  return figures;
}

std::uint64_t count_after(const std::string& text, const std::string& phrase) {
  const std::size_t at = text.find(phrase);
  if (at == std::string::npos) return 0;
  std::size_t begin = text.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  return std::strtoull(text.c_str() + begin, nullptr, 10);
}

// One capture: the tool in namespace a on CPU 0 until it says it listens, the sender, then
// SIGINT and what the tool printed on its way out.
Result<CaptureFigures> capture_once(const VethPair& link, const std::vector<std::byte>& frame,
                                    const XdpBenchConfig& config, const std::string& label,
                                    std::vector<std::string> argv, double pps) {
  const CpuPlan cpus = server_client_cpus();
  auto tool = Process::spawn(link.exec(VethPair::a, std::move(argv)),
                             {.out = Output::pipe, .err = Output::pipe, .cpu = cpus.server});
  if (!tool) return std::unexpected(tool.error());
  std::string said;
  while (auto line = tool->read_line(std::chrono::seconds(10))) {
    said += *line + "\n";
    if (line->find("listening on") != std::string::npos) break;
  }
  if (said.find("listening on") == std::string::npos) {
    tool->kill();
    return fail(Errc::system, label, "did not start: " + said + tool->read_all());
  }
  const CpuTime cpu_at_start = process_cpu(tool->pid());  // setup (pinning a UMEM) not counted
  Pipe sent = Pipe::make();
  auto sender = Process::fork([&] {
    if (!link.enter(VethPair::b)) return 77;
    pin_to(cpus.client);
    auto tx = PacketTxRing::open(link.name(VethPair::b));
    if (!tx) return 1;
    auto r = tx->send_for(frame, std::chrono::duration<double>(config.seconds), pps);
    return r && write_all(sent.write.get(), &*r, sizeof *r) ? 0 : 1;
  });
  if (!sender) return std::unexpected(sender.error());
  sent.write.reset();
  SendResult result;
  const bool got = read_exact(sent.read.get(), result);
  if (auto done = sender->expect_success("xdp bench sender"); !done || !got) {
    return done ? fail(Errc::system, "xdp bench sender", "no result")
                : std::unexpected(done.error());
  }
  // What is queued reaches the file: tcpdump's libpcap hands over a partly filled block only
  // after its 1 s timeout, and a SIGINT before that would count what it had received as lost.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  tool->signal(SIGINT);
  said += tool->read_all();
  const auto exit = tool->wait_for(std::chrono::seconds(30));
  if (!exit) {
    tool->kill();
    return fail(Errc::system, label, "did not stop on SIGINT");
  }
  const std::uint64_t captured = count_after(said, " packets captured");
  return CaptureFigures{
      .tool = label,
      .offered_pps = pps,
      .sent_pps = static_cast<double>(result.sent) / std::max(result.seconds, 1e-3),
      .sent = result.sent,
      .captured = captured,
      .reported_dropped = count_after(said, " packets dropped by kernel"),
      .cpu_ns_per_packet = (exit->cpu.total() - cpu_at_start.total()) /
                           static_cast<double>(std::max<std::uint64_t>(captured, 1)) * 1e9};
}

Result<std::vector<CaptureFigures>> measure_capture(const VethPair& link,
                                                    const std::vector<std::byte>& frame,
                                                    const XdpBenchConfig& config) {
  TempDir dir("zcopy-xdp-bench");
  const std::string interface = link.name(VethPair::a);
  std::vector<CaptureFigures> figures;
  for (double pps : config.capture_rates) {
    const std::string ours = dir.path() + "/xdp.pcap", theirs = dir.path() + "/tcpdump.pcap";
    auto a = capture_once(link, frame, config, "zcopy xdp capture",
                          {config.tool, "xdp", "capture", interface, "-w", ours}, pps);
    if (!a) return std::unexpected(a.error());
    figures.push_back(*a);
    auto b = capture_once(link, frame, config, "tcpdump -w",
                          {"tcpdump", "-i", interface, "-w", theirs, "-n", "-Z", "root"}, pps);
    if (!b) return std::unexpected(b.error());
    figures.push_back(*b);
    ::unlink(ours.c_str());
    ::unlink(theirs.c_str());
  }
  return figures;
}

}  // namespace

Result<XdpBenchReport> run_xdp_bench(const XdpBenchConfig& config) {
  for (Capability needed : {Capability::af_xdp, Capability::xdp_native_veth}) {
    if (const Probe& p = probe(needed); !p.available) {
      return fail(Errc::capability_missing, "xdp bench",
                  std::string(name(needed)) + ": " + p.detail);
    }
  }
  if (config.capture && !have_program("tcpdump")) {
    return fail(Errc::capability_missing, "xdp bench",
                "tcpdump is not installed (or --no-capture)");
  }
  VethPair link({.queues = 1, .second_octet = 217});
  if (!link.ok()) return fail(Errc::capability_missing, "xdp bench", link.why());
  UdpFlow flow;
  const auto mac_a = parse_mac(link.mac(VethPair::a));
  const auto mac_b = parse_mac(link.mac(VethPair::b));
  if (!mac_a || !mac_b) return fail(Errc::system, "xdp bench", "the veth ends have no MAC");
  flow.source_mac = *mac_b;
  flow.destination_mac = *mac_a;
  flow.source_ip = link.ip(VethPair::b);
  flow.destination_ip = link.ip(VethPair::a);
  flow.source_port = 4000;
  flow.destination_port = kPort;
  const std::size_t headers = 14 + 20 + 8;
  const std::size_t payload = std::max<std::size_t>(config.size, 60) - headers;
  const std::vector<std::byte> frame = udp_frame(flow, sequenced_payload(0, payload));

  XdpBenchReport report;
  if (config.napi_thread) {
    if (auto threaded = set_threaded_napi(link, VethPair::a, true); !threaded) {
      return std::unexpected(threaded.error());
    }
  }
  auto receive = measure_receive(link, frame, config);
  if (!receive) return std::unexpected(receive.error());
  if (config.napi_thread) {
    // The starvation and capture parts keep the receive work on the sender's CPU, as before.
    if (auto back = set_threaded_napi(link, VethPair::a, false); !back) {
      return std::unexpected(back.error());
    }
  }
  report.receive = std::move(*receive);
  if (config.starvation) {
    auto starvation = measure_starvation(link, frame, config);
    if (!starvation) return std::unexpected(starvation.error());
    report.starvation = std::move(*starvation);
  }
  if (config.capture) {
    auto capture = measure_capture(link, frame, config);
    if (!capture) return std::unexpected(capture.error());
    report.capture = std::move(*capture);
  }
  return report;
}

}  // namespace zc::bench
