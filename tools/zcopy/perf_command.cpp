// zcopy perf server|client: memory-to-socket throughput of each send method, like iperf3, with
// CPU seconds per GB and the copy ledger (bytes sent zero-copy, bytes the kernel copied anyway).
// The measuring ends are bench/net/perf_receiver.hpp and bench/net/perf_sender.hpp.
#include <cstdio>
#include <memory>
#include <string>

#include "bench/net/perf_receiver.hpp"
#include "bench/net/perf_sender.hpp"
#include "command.hpp"
#include "options.hpp"
#include "zcopy/core/units.hpp"

namespace zc::cli {
namespace {

struct PerfOptions {
  bench::PerfSendConfig client;
  bool once = false;
  bool json = false;
  bool no_fixed = false;
};

CommandResult run_server(const PerfOptions& o) {
  auto receiver = bench::PerfReceiver::open(o.client.host, o.client.port, o.client.udp);
  if (!receiver) return std::unexpected(receiver.error());
  std::fprintf(stderr, "perf server: %s\n", receiver->address().c_str());
  for (;;) {
    auto run = receiver->next();
    if (!run) return std::unexpected(run.error());
    const double rate = run->seconds > 0 ? static_cast<double>(run->bytes) / run->seconds : 0;
    if (o.client.udp) {
      std::printf("perf server: received %s in %llu datagrams (%s)\n",
                  format_bytes(run->bytes).c_str(), static_cast<unsigned long long>(run->datagrams),
                  format_rate(rate).c_str());
    } else {
      std::printf("perf server: received %s in %.2f s (%s)\n", format_bytes(run->bytes).c_str(),
                  run->seconds, format_rate(rate).c_str());
    }
    std::fflush(stdout);
    if (o.once) return kExitOk;
  }
}

CommandResult run_client(PerfOptions o) {
  o.client.fixed = !o.no_fixed;
  auto report = bench::run_perf_sender(o.client);
  if (!report) return std::unexpected(report.error());
  const TransferLedger& ledger = report->ledger;
  const net::SenderStats& stats = report->stats;
  const std::uint64_t calls = report->calls;
  const bool sendfile = report->sendfile;
  const double notification_rate =
      ledger.wall_s > 0 ? static_cast<double>(stats.notifications) / ledger.wall_s : 0;
  if (o.json) {
    JsonRecord r = ledger.record("perf");
    r.add("protocol", o.client.udp ? "udp" : "tcp")
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
      line.replace(pos, key.size(), "\"size_bytes\":" + std::to_string(o.client.size));
      line.insert(line.size() - 1, ",\"bytes\":" + std::to_string(ledger.bytes));
    }
    std::puts(line.c_str());
  } else {
    std::printf("%s\n", ledger.summary().c_str());
    if (!sendfile) {
      std::printf(
          "  %s sends of %s: %llu zero-copy calls, %llu notifications (%.0f/s), %llu reported "
          "copied, high water %s in %llu sends%s%s\n",
          o.client.udp ? "udp" : "tcp", format_bytes(o.client.size).c_str(),
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
  server->add_option("--host", o->client.host, "Address to listen on (default 127.0.0.1)");
  server->add_option("--port", o->client.port, "Port (default 5202)");
  server->add_flag("--udp", o->client.udp, "Receive UDP datagrams instead of a TCP stream");
  server->add_flag("--once", o->once, "Exit after one connection (UDP: one burst)");
  CLI::App* client = sub.add_subcommand("client", "Send from memory and report the ledger");
  client->add_option("--host", o->client.host, "Server address (default 127.0.0.1)");
  client->add_option("--port", o->client.port, "Server port (default 5202)")->required();
  client
      ->add_option("--method", o->client.method,
                   "auto|zerocopy|uring-zc|copy|sendfile (default auto)")
      ->check(CLI::IsMember({"auto", "zerocopy", "uring-zc", "copy", "sendfile"}));
  add_size_option(*client, "--size", o->client.size, "Bytes per send (default 128K)");
  add_size_option(*client, "--working-set", o->client.working_set,
                  "Memory the sends cycle through, at most 1G (default 256M)");
  add_size_option(*client, "--threshold", o->client.threshold,
                  "Sends below this are copied by zero-copy methods (default 12K)");
  add_size_option(*client, "--max-outstanding", o->client.max_outstanding,
                  "Bound on bytes the kernel may hold (default 64M)");
  add_size_option(*client, "--trial-epoch", o->client.trial_epoch,
                  "auto: bytes per epoch of its trial among the methods (default 64M)");
  client->add_option("--seconds", o->client.seconds, "Seconds to send (default 5)")
      ->check(CLI::Range(0.01, 3600.0));
  client->add_flag("--udp", o->client.udp, "Send UDP: one UDP_SEGMENT (GSO) batch per send");
  client->add_option("--segment", o->client.segment, "Datagram size for --udp (default 1472)")
      ->check(CLI::Range(1, 65507));
  client->add_flag(
      "--no-fixed", o->no_fixed,
      "uring-zc, auto: do not register the working set (SEND_ZC from unregistered memory)");
  client->add_flag("--json", o->json, "One JSON record instead of text");
  return [o, server] { return server->parsed() ? run_server(*o) : run_client(*o); };
}

}  // namespace zc::cli
