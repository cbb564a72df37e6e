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
    std::printf("%s\n", bench::describe(*run, o.client.udp).c_str());
    std::fflush(stdout);
    if (o.once) return kExitOk;
  }
}

CommandResult run_client(PerfOptions o) {
  o.client.fixed = !o.no_fixed;
  auto report = bench::run_perf_sender(o.client);
  if (!report) return std::unexpected(report.error());
  const std::string text =
      o.json ? bench::json_line(*report, o.client) + "\n" : bench::describe(*report, o.client);
  std::fputs(text.c_str(), stdout);
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
