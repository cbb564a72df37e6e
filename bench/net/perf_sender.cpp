#include "bench/net/perf_sender.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <vector>

#include "bench/support/report.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/net/endpoint.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::bench {
namespace {

using Clock = std::chrono::steady_clock;

// An anonymous mapping, unmapped on destruction.
struct Mapping {
  std::byte* data = nullptr;
  std::size_t size = 0;
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (data != nullptr) ::munmap(data, size);
  }
};

Result<std::unique_ptr<Mapping>> map_working_set(std::size_t size) {
  auto m = std::make_unique<Mapping>();
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return fail_errno(errno, "mmap(" + format_bytes(size) + " working set)");
  m->data = static_cast<std::byte*>(p);
  m->size = size;
  // Touch every page with non-zero bytes: no zero-page sharing, no faults while measuring.
  for (std::size_t i = 0; i < size; i += 64) m->data[i] = static_cast<std::byte>(i >> 6 | 1);
  return m;
}

Result<Fd> udp_connected(const net::Endpoint& endpoint) {
  auto addresses = net::resolve(endpoint);
  if (!addresses) return std::unexpected(addresses.error());
  const net::SocketAddress& to = addresses->front();
  auto fd = sys_call("socket(SOCK_DGRAM)",
                     [&] { return ::socket(to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0); });
  if (!fd) return std::unexpected(fd.error());
  Fd socket = Fd::adopt(*fd);
  if (auto rc = sys_call({"connect", socket.get()},
                         [&] { return ::connect(socket.get(), to.get(), to.length()); });
      !rc) {
    return std::unexpected(std::move(rc.error()).with_context("udp " + to.str()));
  }
  return socket;
}

// After the last byte: half-close and wait until the receiver has read everything and closed.
Result<void> await_receiver(int fd, bool udp) {
  if (udp) return {};
  if (auto rc = sys_call({"shutdown", fd}, [&] { return ::shutdown(fd, SHUT_WR); }); !rc) {
    return std::unexpected(rc.error());
  }
  char byte = 0;
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  if (::poll(&p, 1, 30'000) <= 0) {
    return fail(Errc::timeout, "perf client", "the server did not finish reading within 30 s");
  }
  (void)::recv(fd, &byte, 1, 0);
  return {};
}

Result<PerfSendReport> by_sendfile(int fd, const PerfSendConfig& o) {
  auto memfd = sys_call("memfd_create", [] { return ::memfd_create("zcopy-perf", MFD_CLOEXEC); });
  if (!memfd) return std::unexpected(memfd.error());
  Fd file = Fd::adopt(*memfd);
  std::vector<std::byte> block(1 << 20);
  for (std::size_t i = 0; i < block.size(); i += 64) block[i] = static_cast<std::byte>(i >> 6 | 1);
  for (std::uint64_t at = 0; at < o.working_set; at += block.size()) {
    if (::pwrite(file.get(), block.data(), block.size(), static_cast<off_t>(at)) < 0) {
      return fail_errno(errno, "pwrite(memfd)");
    }
  }
  PerfSendReport report{
      .ledger = {.method = "sendfile"}, .stats = {}, .calls = 0, .sendfile = true};
  CpuStopwatch watch;
  const auto end = Clock::now() + std::chrono::duration<double>(o.seconds);
  std::uint64_t at = 0;
  while (Clock::now() < end) {
    off_t offset = static_cast<off_t>(at);
    std::uint64_t left = o.size;
    while (left > 0) {
      auto n = sys_call({"sendfile", fd}, [&] {
        return ::sendfile(fd, file.get(), &offset, static_cast<std::size_t>(left));
      });
      if (!n) return std::unexpected(n.error());
      left -= static_cast<std::uint64_t>(*n);
      ++report.calls;
    }
    report.ledger.bytes += o.size;
    at = at + 2 * o.size > o.working_set ? 0 : at + o.size;
  }
  if (auto done = await_receiver(fd, o.udp); !done) return std::unexpected(done.error());
  watch.stop_into(report.ledger);
  report.ledger.bytes_zero_copy = report.ledger.bytes;  // page references, no CPU copy here
  return report;
}

Result<PerfSendReport> by_sender(int fd, const PerfSendConfig& o, net::SendMethod method) {
  auto working = map_working_set(static_cast<std::size_t>(o.working_set));
  if (!working) return std::unexpected(working.error());
  net::SenderOptions options{.method = method,
                             .zerocopy_threshold = static_cast<std::size_t>(o.threshold),
                             .max_outstanding_bytes = o.max_outstanding,
                             .udp_segment = o.udp ? o.segment : std::uint16_t{0},
                             .trial_epoch_bytes = o.trial_epoch};
  auto sender = net::ZeroCopySender::create(fd, options);
  if (!sender) return std::unexpected(sender.error());
  const bool uses_fixed =
      method == net::SendMethod::uring_zc || method == net::SendMethod::automatic;
  if (uses_fixed && o.fixed) {
    if (auto ok = sender->register_buffer({(*working)->data, (*working)->size}); !ok) {
      return std::unexpected(
          std::move(ok.error()).with_context("perf client: --no-fixed avoids it"));
    }
  }
  PerfSendReport report;
  report.ledger.method = std::string(net::to_string(method));
  CpuStopwatch watch;
  const auto end = Clock::now() + std::chrono::duration<double>(o.seconds);
  std::uint64_t at = 0;
  while (Clock::now() < end) {
    // Check the clock every few sends only: a clock read per 4 KiB send shows in the profile.
    for (int i = 0; i < 16; ++i) {
      auto ticket = sender->send({(*working)->data + at, static_cast<std::size_t>(o.size)});
      if (!ticket) return std::unexpected(ticket.error());
      report.ledger.bytes += o.size;
      at = at + 2 * o.size > o.working_set ? 0 : at + o.size;
    }
  }
  if (auto flushed = sender->flush(); !flushed) return std::unexpected(flushed.error());
  if (auto done = await_receiver(fd, o.udp); !done) return std::unexpected(done.error());
  watch.stop_into(report.ledger);
  report.stats = sender->stats();
  report.calls = report.stats.zerocopy_calls;
  report.ledger.bytes_zero_copy = report.stats.bytes_zero_copy;
  report.ledger.bytes_copied_kernel =
      report.stats.bytes_kernel_copied + report.stats.bytes_copy_sent;
  return report;
}

}  // namespace

Result<PerfSendReport> run_perf_sender(const PerfSendConfig& o) {
  auto method = net::send_method_from_name(o.method);
  const bool sendfile = o.method == "sendfile";
  if (!method && !sendfile) {
    return fail(Errc::usage, "perf client", "unknown --method " + o.method);
  }
  if (o.size == 0 || o.size > o.working_set || o.working_set > kGiB) {
    return fail(Errc::usage, "perf client", "need 0 < --size <= --working-set <= 1G");
  }
  if (sendfile && o.udp) {
    return fail(Errc::usage, "perf client", "sendfile is measured over TCP only");
  }
  const net::Endpoint endpoint{o.host, o.port};
  auto socket =
      o.udp ? udp_connected(endpoint) : net::connect_tcp(endpoint, std::chrono::milliseconds(5000));
  if (!socket) return std::unexpected(socket.error());
  return sendfile ? by_sendfile(socket->get(), o) : by_sender(socket->get(), o, *method);
}

namespace {

double notification_rate(const PerfSendReport& report) {
  const double wall_s = report.ledger.wall_s;
  return wall_s > 0 ? static_cast<double>(report.stats.notifications) / wall_s : 0;
}

}  // namespace

std::string describe(const PerfSendReport& report, const PerfSendConfig& config) {
  const net::SenderStats& stats = report.stats;
  std::string text = report.ledger.summary() + "\n";
  if (!report.sendfile) {
    text += format_text(
        "  %s sends of %s: %llu zero-copy calls, %llu notifications (%.0f/s), %llu reported "
        "copied, high water %s in %llu sends%s%s\n",
        config.udp ? "udp" : "tcp", format_bytes(config.size).c_str(),
        static_cast<unsigned long long>(report.calls),
        static_cast<unsigned long long>(stats.notifications), notification_rate(report),
        static_cast<unsigned long long>(stats.calls_copied),
        format_bytes(stats.outstanding_high_water_bytes).c_str(),
        static_cast<unsigned long long>(stats.outstanding_high_water_sends),
        stats.note.empty() ? "" : "; ", stats.note.c_str());
  }
  return text;
}

std::string json_line(const PerfSendReport& report, const PerfSendConfig& config) {
  const TransferLedger& ledger = report.ledger;
  const net::SenderStats& stats = report.stats;
  JsonRecord r = ledger.record("perf");
  r.add("protocol", config.udp ? "udp" : "tcp")
      .add("method_used", report.sendfile ? "sendfile" : net::to_string(stats.method))
      .add("zerocopy_calls", report.calls)
      .add("notifications", stats.notifications)
      .add("notifications_per_s", notification_rate(report))
      .add("calls_copied", stats.calls_copied)
      .add("outstanding_high_water_bytes", stats.outstanding_high_water_bytes)
      .add("outstanding_high_water_sends", stats.outstanding_high_water_sends)
      .add("fixed_buffer_sends", stats.fixed_buffer_sends)
      .add("enobufs", stats.enobufs)
      .add("switched_to_copy", stats.switched_to_copy)
      .add("method_trials", std::uint64_t{stats.method_trials})
      .add("method_changes", std::uint64_t{stats.method_changes})
      .add("trial_copy_gb_per_s", stats.trial_copy.gb_per_s)
      .add("trial_copy_cpu_s_per_gb", stats.trial_copy.cpu_s_per_gb)
      .add("trial_zerocopy_gb_per_s", stats.trial_msg_zerocopy.gb_per_s)
      .add("trial_zerocopy_cpu_s_per_gb", stats.trial_msg_zerocopy.cpu_s_per_gb)
      .add("trial_uring_zc_gb_per_s", stats.trial_uring_zc.gb_per_s)
      .add("trial_uring_zc_cpu_s_per_gb", stats.trial_uring_zc.cpu_s_per_gb)
      .add("note", stats.note);
  // The record carries the send size as size_bytes, like every other bench record.
  std::string line = r.str();
  const std::string key = "\"size_bytes\":" + std::to_string(ledger.bytes);
  if (auto pos = line.find(key); pos != std::string::npos) {
    line.replace(pos, key.size(), "\"size_bytes\":" + std::to_string(config.size));
    line.insert(line.size() - 1, ",\"bytes\":" + std::to_string(ledger.bytes));
  }
  return line;
}

}  // namespace zc::bench
