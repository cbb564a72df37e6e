// zcopy serve DIR: serve a directory over HTTP/1.1, bodies by sendfile, splice, io_uring or copy,
// or over HTTPS with --cert and --key (and `zcopy serve bench`, in serve_bench.cpp). The first
// stdout line names the URL, so scripts can start it on --port 0 and read where it listens. SIGINT
// or SIGTERM stop it, and it prints the copy ledger of everything it sent. With --ledger-json it
// also writes that ledger as a JSON line, at the stop and whenever SIGUSR1 asks, so a benchmark
// reads what the server measured.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include "options.hpp"
#include "serve_bench.hpp"
#include "stop_signals.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/http/client/url.hpp"
#include "zcopy/http/server/server.hpp"

namespace zc::cli {
namespace {

constexpr const char* kMethods = "auto, sendfile, splice, uring or copy";

struct ServeCommandOptions {
  std::string dir;
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string method = "auto";
  unsigned threads = 0;
  std::size_t max_connections = 10000;
  double header_timeout_s = 10;
  double idle_timeout_s = 60;
  std::string access_log;
  std::string ledger_json;  // FILE, or "-" for stdout
  std::string cert;         // with key: HTTPS
  std::string key;
  std::vector<std::string> mirrors;
};

// Serving thousands of connections needs more descriptors than the usual soft limit of 1024.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// One JSON line: the ledger so far (its CPU is the whole process's since start) and the counts.
void report_ledger(const http::Server& server, std::FILE* out) {
  JsonRecord record = server.ledger().record("serve");
  const http::ServerStats stats = server.stats();
  record.add("requests", stats.requests).add("connections", stats.connections_accepted);
  std::fprintf(out, "%s\n", record.str().c_str());
  std::fflush(out);
}

CommandResult run_serve(const ServeCommandOptions& o) {
  if (o.cert.empty() != o.key.empty())
    return usage_error("serve", "--cert and --key go together (HTTPS needs both)");
  const auto method = net::file_send_method_from_name(o.method);
  if (!method) return usage_error("serve --method " + o.method, kMethods);
  zc::Fd log_file;
  int access_log_fd = STDERR_FILENO;
  if (!o.access_log.empty()) {
    auto f = zc::Fd::open(o.access_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (!f) return std::unexpected(f.error());
    log_file = std::move(*f);
    access_log_fd = log_file.get();
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> ledger_file(nullptr, &std::fclose);
  std::FILE* ledger_out = nullptr;
  if (o.ledger_json == "-") {
    ledger_out = stdout;
  } else if (!o.ledger_json.empty()) {
    ledger_file.reset(std::fopen(o.ledger_json.c_str(), "ae"));
    if (!ledger_file) return fail_errno(errno, "open(" + o.ledger_json + ")");
    ledger_out = ledger_file.get();
  }
  raise_descriptor_limit();
  // Blocked before the loops start, so they inherit the mask and only sigwait() sees these.
  const sigset_t stop_signals = block_stop_signals(ledger_out != nullptr ? SIGUSR1 : 0);

  http::ServerOptions options{.root = o.dir};
  options.bind = {o.bind, o.port};
  options.method = *method;
  options.threads = o.threads;
  options.max_connections = o.max_connections;
  options.header_timeout = millis(o.header_timeout_s);
  options.idle_timeout = millis(o.idle_timeout_s);
  options.access_log_fd = access_log_fd;
  if (!o.cert.empty())
    options.tls = secure::ServerTlsOptions{.cert_file = o.cert, .key_file = o.key};
  options.mirrors = o.mirrors;
  auto server = http::Server::start(options);
  if (!server) return std::unexpected(server.error());
  std::printf("serving %s at %s\n", o.dir.c_str(), (*server)->url().c_str());
  std::fflush(stdout);
  if (!(*server)->method_note().empty())
    std::fprintf(stderr, "%s\n", (*server)->method_note().c_str());

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) == 0 && signal_number == SIGUSR1)
    report_ledger(**server, ledger_out);
  (*server)->stop();
  const http::ServerStats stats = (*server)->stats();
  std::fprintf(stderr, "zcopy serve: stopped by %s after %llu requests on %llu connections\n",
               signal_number == SIGINT ? "SIGINT" : "SIGTERM",
               static_cast<unsigned long long>(stats.requests),
               static_cast<unsigned long long>(stats.connections_accepted));
  std::fprintf(stderr, "zcopy serve: %s\n", (*server)->ledger().summary().c_str());
  if (ledger_out != nullptr) report_ledger(**server, ledger_out);
  return kExitOk;
}

}  // namespace

CommandRunner add_serve_command(CLI::App& sub) {
  auto o = std::make_shared<ServeCommandOptions>();
  auto bench = std::make_shared<ServeBenchSettings>();
  sub.add_option("dir", o->dir, "Directory to serve")->check(CLI::ExistingDirectory);
  sub.add_option("--bind", o->bind, "Address to listen on (default 127.0.0.1)");
  sub.add_option("--port", o->port, "Port (default 8080; 0 picks a free one)");
  sub.add_option("--method", o->method, std::string("Body method: ") + kMethods)
      ->check(accepted_by(net::file_send_method_from_name, kMethods));
  sub.add_option("--threads", o->threads, "Event loops (default: one per core)")
      ->check(CLI::Range(0U, 1024U));
  sub.add_option("--max-connections", o->max_connections,
                 "Open connections before new ones get 503 (default 10000)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24));
  sub.add_option("--header-timeout", o->header_timeout_s,
                 "Seconds a client may take to send a request head (default 10)")
      ->check(CLI::Range(0.001, 86400.0));
  sub.add_option("--idle-timeout", o->idle_timeout_s,
                 "Seconds a connection may sit idle or stall a send (default 60)")
      ->check(CLI::Range(0.001, 86400.0));
  sub.add_option("--access-log", o->access_log, "Append the access log here instead of stderr");
  sub.add_option("--ledger-json", o->ledger_json,
                 "Append the copy ledger as a JSON line to FILE ('-': stdout) at the stop and on "
                 "each SIGUSR1");
  sub.add_option("--cert", o->cert,
                 "Serve HTTPS with this certificate (PEM, chain after it); needs --key");
  sub.add_option("--key", o->key, "The certificate's private key (PEM)");
  sub.add_option("--mirror", o->mirrors,
                 "Base URL of a mirror of DIR (repeatable): file responses link to the same path "
                 "there with Link: <URL>; rel=duplicate")
      ->check(accepted_by(http::parse_url, "an http:// or https:// URL"));
  CLI::App* bench_app =
      sub.add_subcommand("bench", "Measure serve against nginx: throughput, CPU s/GB, wrk req/s");
  add_serve_bench_options(*bench_app, *bench);
  return [o, bench, bench_app]() -> CommandResult {
    if (bench_app->parsed()) return run_serve_bench(*bench);
    if (o->dir.empty()) return usage_error("serve", "which directory? (zcopy serve DIR)");
    return run_serve(*o);
  };
}

}  // namespace zc::cli
