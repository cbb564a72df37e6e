#include "bench/xdp/xdp_port.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>

#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {

namespace {

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// What the user can act on: a name that is not an interface here is a usage error; a privilege
// the process lacks is a missing capability (exit 3), as the probe would have said.
Error classified(Error error) {
  if (error.code() == Errc::invalid_argument) return fail(Errc::usage, "", error.message()).error();
  const int err = error.sys_errno();
  if (err == EPERM || err == EACCES) {
    return fail(Errc::capability_missing, "", error.message() + " (needs CAP_NET_ADMIN, CAP_BPF)")
        .error();
  }
  return error;
}

}  // namespace

std::uint32_t fill_ring_size(const XdpSettings& settings) {
  if (settings.receive_only) return std::bit_floor(std::max(settings.frames, 1u));
  return std::clamp<std::uint32_t>(std::bit_floor(std::max(settings.frames / 2, 1u)), 1, 8192);
}

Result<xdp::Umem> make_umem(const XdpSettings& settings) {
  if (const Probe& p = probe(Capability::af_xdp); !p.available) {
    return fail(Errc::capability_missing, "AF_XDP", p.detail);
  }
  const std::uint32_t fill = fill_ring_size(settings);
  auto umem = xdp::Umem::create(
      {.frame_count = settings.frames, .fill_ring_size = fill, .completion_ring_size = fill});
  if (!umem) return std::unexpected(classified(umem.error()));
  return umem;
}

Result<Port> open_port(xdp::Umem& umem, const std::string& interface, const XdpSettings& settings) {
  auto program = xdp::RedirectProgram::attach(interface, settings.mode);
  if (!program) return std::unexpected(classified(program.error()));
  Port port;
  port.program = std::make_unique<xdp::RedirectProgram>(std::move(*program));
  auto socket = xdp::Socket::open(umem, *port.program,
                                  {.queue = settings.queue,
                                   // As deep as the fill ring: every frame given to the kernel
                                   // has a place to arrive in.
                                   .rx_ring_size = std::max(fill_ring_size(settings), 64u),
                                   .mode = settings.mode});
  if (!socket) return std::unexpected(classified(socket.error()));
  port.socket.emplace(std::move(*socket));
  std::fprintf(stderr, "zcopy xdp: %s\n", port.socket->mode_line().c_str());
  return port;
}

Result<Queue> open_queue(const XdpSettings& settings) {
  auto umem = make_umem(settings);
  if (!umem) return std::unexpected(umem.error());
  Queue queue;
  queue.umem = std::make_unique<xdp::Umem>(std::move(*umem));
  auto port = open_port(*queue.umem, settings.interface, settings);
  if (!port) return std::unexpected(port.error());
  queue.port = std::move(*port);
  return queue;
}

StopRule::StopRule(const XdpSettings& settings, const std::atomic<bool>& stop)
    : stop_(stop),
      count_(settings.count),
      deadline_(std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                    std::chrono::duration<double>(settings.seconds))),
      timed_(settings.seconds > 0) {}

bool StopRule::done(std::uint64_t packets) const {
  if (stop_.load(std::memory_order_relaxed)) return true;
  if (count_ > 0 && packets >= count_) return true;
  return timed_ && std::chrono::steady_clock::now() >= deadline_;
}

SecondReporter::SecondReporter(std::vector<const xdp::Socket*> sockets)
    : sockets_(std::move(sockets)), start_(std::chrono::steady_clock::now()), last_time_(start_) {
  for (const xdp::Socket* s : sockets_) last_.push_back(s->statistics());
}

void SecondReporter::tick() {
  const auto now = std::chrono::steady_clock::now();
  const double interval = seconds_between(last_time_, now);
  if (interval < 1.0) return;
  for (std::size_t i = 0; i < sockets_.size(); ++i) {
    const xdp::SocketStatistics s = sockets_[i]->statistics();
    const xdp::SocketStatistics& was = last_[i];
    const auto rate = [&](std::uint64_t now_count, std::uint64_t before) {
      return static_cast<double>(now_count - before) / interval;
    };
    std::printf(
        "%7.2f s  %s  rx %.0f pkt/s (%s)  tx %.0f pkt/s  dropped %llu  fill-empty %llu  "
        "no-frames %llu  invalid %llu  held %u\n",
        seconds_between(start_, now),
        sockets_[i]->mode_line().substr(0, sockets_[i]->mode_line().find(':')).c_str(),
        rate(s.rx_packets, was.rx_packets), format_rate(rate(s.rx_bytes, was.rx_bytes)).c_str(),
        rate(s.tx_packets, was.tx_packets),
        static_cast<unsigned long long>(s.dropped() - was.dropped()),
        static_cast<unsigned long long>(s.kernel_rx_fill_ring_empty -
                                        was.kernel_rx_fill_ring_empty),
        static_cast<unsigned long long>(s.frames_unavailable - was.frames_unavailable),
        static_cast<unsigned long long>(s.invalid() - was.invalid()), s.frames_held);
    last_[i] = s;
  }
  std::fflush(stdout);
  last_time_ = now;
}

}  // namespace zc::bench
