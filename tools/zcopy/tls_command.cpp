// zcopy tls connect HOST[:PORT] | tls bench: the secure module on its own. `connect` runs a
// handshake and says which path the records take (ours in place, or SSL_read, and why, with the
// kTLS probe's answer); `bench` times in-place opening of 16 KiB records against openssl speed.
#include <cstdio>
#include <memory>
#include <string>

#include "bench/secure/record_open_bench.hpp"
#include "command.hpp"
#include "zcopy/net/endpoint.hpp"
#include "zcopy/secure/session.hpp"

namespace zc::cli {
namespace {

struct TlsCommandOptions {
  std::string target;
  std::string cacert;
  std::string capath;
  bool insecure = false;
  double seconds = 3;
  unsigned repeats = 3;
  bool json = false;
};

CommandResult run_connect(const TlsCommandOptions& o) {
  auto endpoint = net::parse_endpoint(o.target, 443);
  if (!endpoint) return as_usage(endpoint.error());
  if (o.insecure)
    std::fprintf(stderr, "zcopy: warning: --insecure: the server's certificate is not checked\n");
  auto session = secure::Session::connect(
      *endpoint, {.ca_file = o.cacert, .ca_path = o.capath, .insecure = o.insecure});
  if (!session) return std::unexpected(session.error());
  std::printf("%s: %s, ALPN %s\n", endpoint->str().c_str(), session->describe().c_str(),
              session->alpn().empty() ? "none" : session->alpn().c_str());
  return kExitOk;
}

CommandResult run_bench(const TlsCommandOptions& o) {
  const bench::RecordOpenBenchConfig config{.seconds = o.seconds, .repeats = o.repeats};
  auto figures = bench::run_record_open_bench(config);
  if (!figures) return std::unexpected(figures.error());
  bench::describe(*figures, config).print(stdout, o.json);
  return kExitOk;
}

}  // namespace

CommandRunner add_tls_command(CLI::App& sub) {
  auto o = std::make_shared<TlsCommandOptions>();
  sub.require_subcommand(1);
  CLI::App* connect = sub.add_subcommand("connect", "Handshake and say how records are opened");
  connect->add_option("target", o->target, "HOST[:PORT] (port 443 by default)")->required();
  connect->add_option("--cacert", o->cacert, "Trust the CA certificates in this PEM file");
  connect->add_option("--capath", o->capath, "Trust the CA certificates in this directory");
  connect->add_flag("-k,--insecure", o->insecure, "Do not check the server's certificate");
  CLI::App* bench = sub.add_subcommand(
      "bench", "In-place opening of 16 KiB AES-256-GCM records against openssl speed");
  bench->add_option("--seconds", o->seconds, "Seconds per measurement")
      ->check(CLI::Range(0.1, 60.0));
  bench->add_option("--repeats", o->repeats, "Measurements per side (medians are reported)")
      ->check(CLI::Range(1, 20));
  bench->add_flag("--json", o->json, "JSON records instead of text");
  return [o, connect] { return connect->parsed() ? run_connect(*o) : run_bench(*o); };
}

}  // namespace zc::cli
