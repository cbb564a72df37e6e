// zcopy perf server|client: memory-to-socket throughput of each send method, like iperf3, with
// CPU seconds per GB and the copy ledger (bytes sent zero-copy, bytes the kernel copied anyway).
//
// The client sends --size bytes per call from a working set it never modifies (so buffers need
// no waiting before reuse), for --seconds, then waits until the server has read everything.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "options.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/net/endpoint.hpp"
#include "zcopy/net/tcp.hpp"
#include "zcopy/net/transfer_ledger.hpp"
#include "zcopy/net/zerocopy_sender.hpp"

namespace zc::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct PerfOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 5202;
  bool udp = false;
  bool once = false;
  bool json = false;
  std::string method = "auto";
  std::uint64_t size = 128 * kKiB;
  std::uint64_t working_set = 256 * kMiB;
  std::uint64_t threshold = 12 * kKiB;
  std::uint64_t max_outstanding = 64 * kMiB;
  std::uint64_t trial_epoch = net::SenderOptions{}.trial_epoch_bytes;
  std::uint16_t segment = 1472;
  double seconds = 5;
  bool no_fixed = false;
};

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

// --- server ---------------------------------------------------------------------------------

CommandResult run_server(const PerfOptions& o) {
  std::vector<std::byte> buffer(1 << 20);
  if (o.udp) {
    auto addresses = net::resolve({o.host, o.port});
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
    std::fprintf(stderr, "perf server: udp %s\n", at.str().c_str());
    for (;;) {
      std::uint64_t bytes = 0, datagrams = 0;
      Clock::time_point first{}, last{};
      for (;;) {
        pollfd p{.fd = socket.get(), .events = POLLIN, .revents = 0};
        const int ready = ::poll(&p, 1, datagrams == 0 ? -1 : 1000);
        if (ready == 0) break;  // a second of silence ends a run
        const ssize_t n = ::recv(socket.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n < 0) continue;
        if (datagrams++ == 0) first = Clock::now();
        last = Clock::now();
        bytes += static_cast<std::uint64_t>(n);
      }
      const double s = std::chrono::duration<double>(last - first).count();
      std::printf("perf server: received %s in %llu datagrams (%s)\n", format_bytes(bytes).c_str(),
                  static_cast<unsigned long long>(datagrams),
                  format_rate(s > 0 ? static_cast<double>(bytes) / s : 0).c_str());
      std::fflush(stdout);
      if (o.once) return kExitOk;
    }
  }
  auto listener = net::listen_tcp(net::Endpoint{o.host, o.port}, {.nonblocking = false});
  if (!listener) return std::unexpected(listener.error());
  auto bound = net::local_address(listener->get());
  if (!bound) return std::unexpected(bound.error());
  std::fprintf(stderr, "perf server: tcp %s\n", bound->str().c_str());
  for (;;) {
    auto accepted = sys_call({"accept", listener->get()}, [&] {
      return ::accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC);
    });
    if (!accepted) return std::unexpected(accepted.error());
    Fd connection = Fd::adopt(*accepted);
    const auto start = Clock::now();
    std::uint64_t bytes = 0;
    for (;;) {
      auto n = sys_call({"recv", connection.get()},
                        [&] { return ::recv(connection.get(), buffer.data(), buffer.size(), 0); });
      if (!n || *n == 0) break;
      bytes += static_cast<std::uint64_t>(*n);
    }
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("perf server: received %s in %.2f s (%s)\n", format_bytes(bytes).c_str(), s,
                format_rate(s > 0 ? static_cast<double>(bytes) / s : 0).c_str());
    std::fflush(stdout);
    if (o.once) return kExitOk;
  }
}

// --- client ---------------------------------------------------------------------------------

// After the last byte: half-close and wait until the server has read everything and closed.
Result<void> await_server(int fd, bool udp) {
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

Result<net::TransferLedger> run_sendfile(int fd, const PerfOptions& o, std::uint64_t& calls) {
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
  net::TransferLedger ledger{.method = "sendfile"};
  net::CpuStopwatch watch;
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
      ++calls;
    }
    ledger.bytes += o.size;
    at = at + 2 * o.size > o.working_set ? 0 : at + o.size;
  }
  if (auto done = await_server(fd, o.udp); !done) return std::unexpected(done.error());
  watch.stop_into(ledger);
  ledger.bytes_zero_copy = ledger.bytes;  // page references, no CPU copy on the sending side
  return ledger;
}

CommandResult run_client(const PerfOptions& o) {
  auto method = net::send_method_from_name(o.method);
  const bool sendfile = o.method == "sendfile";
  if (!method && !sendfile) return usage_error("perf client --method " + o.method, "unknown");
  if (o.size == 0 || o.size > o.working_set || o.working_set > kGiB) {
    return usage_error("perf client", "need 0 < --size <= --working-set <= 1G");
  }
  if (sendfile && o.udp) return usage_error("perf client", "sendfile is measured over TCP only");
  const net::Endpoint endpoint{o.host, o.port};
  auto socket =
      o.udp ? udp_connected(endpoint) : net::connect_tcp(endpoint, std::chrono::milliseconds(5000));
  if (!socket) return std::unexpected(socket.error());
  const int fd = socket->get();

  net::TransferLedger ledger;
  net::SenderStats stats;
  std::uint64_t calls = 0;
  if (sendfile) {
    auto measured = run_sendfile(fd, o, calls);
    if (!measured) return std::unexpected(measured.error());
    ledger = *measured;
  } else {
    auto working = map_working_set(static_cast<std::size_t>(o.working_set));
    if (!working) return std::unexpected(working.error());
    net::SenderOptions options{.method = *method,
                               .zerocopy_threshold = static_cast<std::size_t>(o.threshold),
                               .max_outstanding_bytes = o.max_outstanding,
                               .udp_segment = o.udp ? o.segment : std::uint16_t{0},
                               .trial_epoch_bytes = o.trial_epoch};
    auto sender = net::ZeroCopySender::create(fd, options);
    if (!sender) return std::unexpected(sender.error());
    const bool uses_fixed =
        *method == net::SendMethod::uring_zc || *method == net::SendMethod::automatic;
    if (uses_fixed && !o.no_fixed) {
      if (auto ok = sender->register_buffer({(*working)->data, (*working)->size}); !ok) {
        return std::unexpected(
            std::move(ok.error()).with_context("perf client: --no-fixed avoids it"));
      }
    }
    ledger.method = std::string(net::to_string(*method));
    net::CpuStopwatch watch;
    const auto end = Clock::now() + std::chrono::duration<double>(o.seconds);
    std::uint64_t at = 0;
    while (Clock::now() < end) {
      // Check the clock every few sends only: a clock read per 4 KiB send shows in the profile.
      for (int i = 0; i < 16; ++i) {
        auto ticket = sender->send({(*working)->data + at, static_cast<std::size_t>(o.size)});
        if (!ticket) return std::unexpected(ticket.error());
        ledger.bytes += o.size;
        at = at + 2 * o.size > o.working_set ? 0 : at + o.size;
      }
    }
    if (auto flushed = sender->flush(); !flushed) return std::unexpected(flushed.error());
    if (auto done = await_server(fd, o.udp); !done) return std::unexpected(done.error());
    watch.stop_into(ledger);
    stats = sender->stats();
    calls = stats.zerocopy_calls;
    ledger.bytes_zero_copy = stats.bytes_zero_copy;
    ledger.bytes_copied_kernel = stats.bytes_kernel_copied + stats.bytes_copy_sent;
  }

  const double notification_rate =
      ledger.wall_s > 0 ? static_cast<double>(stats.notifications) / ledger.wall_s : 0;
  if (o.json) {
    JsonRecord r = ledger.record("perf");
    r.add("protocol", o.udp ? "udp" : "tcp")
        .add("method_used", sendfile ? "sendfile" : net::to_string(stats.method))
        .add("zerocopy_calls", calls)
        .add("notifications", stats.notifications)
        .add("notifications_per_s", notification_rate)
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
      line.replace(pos, key.size(), "\"size_bytes\":" + std::to_string(o.size));
      line.insert(line.size() - 1, ",\"bytes\":" + std::to_string(ledger.bytes));
    }
    std::puts(line.c_str());
  } else {
    std::printf("%s\n", ledger.summary().c_str());
    if (!sendfile) {
      std::printf(
          "  %s sends of %s: %llu zero-copy calls, %llu notifications (%.0f/s), %llu reported "
          "copied, high water %s in %llu sends%s%s\n",
          o.udp ? "udp" : "tcp", format_bytes(o.size).c_str(),
          static_cast<unsigned long long>(calls),
          static_cast<unsigned long long>(stats.notifications), notification_rate,
          static_cast<unsigned long long>(stats.calls_copied),
          format_bytes(stats.outstanding_high_water_bytes).c_str(),
          static_cast<unsigned long long>(stats.outstanding_high_water_sends),
          stats.note.empty() ? "" : "; ", stats.note.c_str());
    }
  }
  return kExitOk;
}

}  // namespace

CommandRunner add_perf_command(CLI::App& sub) {
  auto o = std::make_shared<PerfOptions>();
  sub.require_subcommand(1);
  CLI::App* server = sub.add_subcommand("server", "Receive and count until the sender closes");
  server->add_option("--host", o->host, "Address to listen on (default 127.0.0.1)");
  server->add_option("--port", o->port, "Port (default 5202)");
  server->add_flag("--udp", o->udp, "Receive UDP datagrams instead of a TCP stream");
  server->add_flag("--once", o->once, "Exit after one connection (UDP: one burst)");
  CLI::App* client = sub.add_subcommand("client", "Send from memory and report the ledger");
  client->add_option("--host", o->host, "Server address (default 127.0.0.1)");
  client->add_option("--port", o->port, "Server port (default 5202)")->required();
  client->add_option("--method", o->method, "auto|zerocopy|uring-zc|copy|sendfile (default auto)")
      ->check(CLI::IsMember({"auto", "zerocopy", "uring-zc", "copy", "sendfile"}));
  add_size_option(*client, "--size", o->size, "Bytes per send (default 128K)");
  add_size_option(*client, "--working-set", o->working_set,
                  "Memory the sends cycle through, at most 1G (default 256M)");
  add_size_option(*client, "--threshold", o->threshold,
                  "Sends below this are copied by zero-copy methods (default 12K)");
  add_size_option(*client, "--max-outstanding", o->max_outstanding,
                  "Bound on bytes the kernel may hold (default 64M)");
  add_size_option(*client, "--trial-epoch", o->trial_epoch,
                  "auto: bytes per epoch of its trial among the methods (default 64M)");
  client->add_option("--seconds", o->seconds, "Seconds to send (default 5)")
      ->check(CLI::Range(0.01, 3600.0));
  client->add_flag("--udp", o->udp, "Send UDP: one UDP_SEGMENT (GSO) batch per send");
  client->add_option("--segment", o->segment, "Datagram size for --udp (default 1472)")
      ->check(CLI::Range(1, 65507));
  client->add_flag(
      "--no-fixed", o->no_fixed,
      "uring-zc, auto: do not register the working set (SEND_ZC from unregistered memory)");
  client->add_flag("--json", o->json, "One JSON record instead of text");
  return [o, server] { return server->parsed() ? run_server(*o) : run_client(*o); };
}

}  // namespace zc::cli
