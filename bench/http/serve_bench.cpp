#include "bench/http/serve_bench.hpp"

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <thread>

#include "bench/support/cpu_accounting.hpp"
#include "bench/support/data.hpp"
#include "bench/support/netns.hpp"
#include "bench/support/peer_server.hpp"
#include "bench/support/process.hpp"
#include "bench/support/serve_process.hpp"
#include "bench/support/stats.hpp"
#include "bench/support/tls_pki.hpp"

namespace zc::bench {
namespace {

using Clock = std::chrono::steady_clock;

// What every step needs: the scratch directory, where servers run and where they are pinned.
struct Context {
  const ServeBenchConfig& config;
  std::string work;
  std::string host = "127.0.0.1";
  std::vector<std::string> exec_prefix;  // ip netns exec NS, or nothing
  CpuPlan cpus;
  std::uint64_t descriptors = 1024;  // RLIMIT_NOFILE of every process started
  TlsPki pki{};                      // with config.tls
  std::vector<std::string> argv(std::vector<std::string> command) const {
    command.insert(command.begin(), exec_prefix.begin(), exec_prefix.end());
    return command;
  }
};

// A server under test: ours, which reports its own ledger, or nginx, which does not.
struct Server {
  std::string label;
  std::optional<ServeProcess> zcopy;
  PeerServer nginx;
  std::string url;
  std::string reported_method;  // the body method our server says it used
};

Result<Server> start_zcopy(const Context& c, const std::string& method) {
  Server s{.label = "serve " + method, .zcopy = {}, .nginx = {}, .url = {}, .reported_method = {}};
  std::vector<std::string> argv = {c.config.tool,
                                   "serve",
                                   c.work + "/www",
                                   "--bind",
                                   c.host,
                                   "--port",
                                   "0",
                                   "--method",
                                   method,
                                   "--max-connections",
                                   std::to_string(2 * c.config.wrk_connections + 64),
                                   "--access-log",
                                   c.work + "/access-" + method + ".log",
                                   "--ledger-json",
                                   "-"};
  if (c.config.tls) {
    argv.insert(argv.end(), {"--cert", c.pki.server_cert, "--key", c.pki.server_key});
    s.label = "serve --cert";
  }
  s.zcopy.emplace(c.argv(std::move(argv)),
                  ServeProcess::Options{.stderr_path = c.work + "/serve-" + method + ".err",
                                        .cpu = c.cpus.server,
                                        .start_limit = std::chrono::seconds(10)});
  if (s.zcopy->url().empty())
    return fail(Errc::rejected, "zcopy serve --method " + method,
                "did not start: " + s.zcopy->stderr_text());
  s.url = s.zcopy->url();
  return s;
}

Result<Server> start_nginx_server(const Context& c) {
  NginxConfig config{
      .dir = c.work,
      .root = c.work + "/www",
      .host = c.host,
      // Probed here: a fresh namespace has every port free, and its address cannot be bound here.
      .port = free_port(),
      .workers = 2,
      .worker_connections = std::max(4096, 2 * c.config.wrk_connections + 64),
      .access_log = c.work + "/nginx-access.log common buffer=64k flush=1s",
      .http_extra =
          "  log_format common '$remote_addr - $remote_user [$time_local] \"$request\" "
          "$status $body_bytes_sent';\n  tcp_nopush on;\n  tcp_nodelay on;\n"
          "  keepalive_requests 1000000;\n",
      .server_extra = c.config.tls
                          ? "  ssl_certificate " + c.pki.server_cert + ";\n  ssl_certificate_key " +
                                c.pki.server_key + ";\n  ssl_protocols TLSv1.3;\n  sendfile off;\n"
                          : std::string(),
      .listen_extra = c.config.tls ? "ssl" : "",
      .main_extra = "worker_rlimit_nofile " + std::to_string(c.descriptors) + ";\n",
      .exec_prefix = c.exec_prefix,
      .cpu = c.cpus.server};
  auto nginx = start_nginx(config);
  if (!nginx) return std::unexpected(nginx.error());
  Server s{.label = c.config.tls ? "nginx ssl" : "nginx",
           .zcopy = {},
           .nginx = std::move(*nginx),
           .url = {},
           .reported_method = c.config.tls ? "nginx-ssl" : "nginx-sendfile"};
  s.url = s.nginx.url();
  if (c.config.tls && s.url.rfind("http://", 0) == 0) s.url = "https://" + s.url.substr(7);
  return s;
}

// After `before`, until the server has counted the whole download: the last send's bytes may be
// added a moment after curl has them all.
Result<TransferLedger> ledger_after(ServeProcess& serve, const TransferLedger& before,
                                    std::uint64_t size) {
  for (int attempt = 0;; ++attempt) {
    auto after = serve.ledger();
    if (!after || after->bytes - before.bytes >= size || attempt == 100) return after;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

TransferLedger difference(const TransferLedger& after, const TransferLedger& before) {
  return {.method = after.method,
          .bytes = after.bytes - before.bytes,
          .bytes_zero_copy = after.bytes_zero_copy - before.bytes_zero_copy,
          .bytes_copied_user = after.bytes_copied_user - before.bytes_copied_user,
          .bytes_copied_kernel = after.bytes_copied_kernel - before.bytes_copied_kernel,
          .bytes_ciphered = after.bytes_ciphered - before.bytes_ciphered,
          .wall_s = 0,
          .cpu_user_s = after.cpu_user_s - before.cpu_user_s,
          .cpu_system_s = after.cpu_system_s - before.cpu_system_s};
}

struct Download {
  TransferLedger ledger;
  double softirq_s = 0;  // on the server's CPU during the download
  double client_cpu_s = 0;
  double client_wait_s = 0;
  ProcessCounters counters{};
};

pid_t server_pid(const Server& s) {
  return s.zcopy ? s.zcopy->pid() : s.nginx.pid();
}

// One curl download to /dev/null: the server's ledger for it, and wall time from curl.
Result<Download> download(Server& s, const Context& c) {
  const std::uint64_t size = c.config.size;
  TransferLedger before;
  if (s.zcopy) {
    auto reported = s.zcopy->ledger();
    if (!reported) return std::unexpected(reported.error());
    before = *reported;
  }
  const CpuTime nginx_before = s.zcopy ? CpuTime{} : process_tree_cpu(s.nginx.pid());
  const ProcessCounters counters_before = read_counters(server_pid(s), {.tree = true});
  const double softirq_before = softirq_seconds(c.cpus.server);
  const auto start = Clock::now();
  const std::string log = c.work + "/curl.out";
  std::vector<std::string> curl_argv = {"curl", "-sS", "-o", "/dev/null", s.url + "big.bin"};
  if (c.config.tls) curl_argv.insert(curl_argv.begin() + 1, {"--cacert", c.pki.ca_cert});
  auto curl = Process::spawn(
      curl_argv, {.out = Output::file, .err = Output::file, .file = log, .cpu = c.cpus.client});
  if (!curl) return std::unexpected(curl.error());
  curl->await_exit();
  const ProcessCounters client = read_counters(curl->pid());
  const Exit exit = curl->wait();
  const int code = exit.code;
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  if (code != 0) return fail(Errc::rejected, "curl " + s.url + "big.bin", read_text(log));
  const double softirq = softirq_seconds(c.cpus.server) - softirq_before;
  TransferLedger ledger;
  if (s.zcopy) {
    auto after = ledger_after(*s.zcopy, before, size);
    if (!after) return std::unexpected(after.error());
    ledger = difference(*after, before);
    s.reported_method = after->method;
  } else {
    const CpuTime used = process_tree_cpu(s.nginx.pid());
    // nginx reports nothing: sendfile moves its bytes by reference; with ssl it reads each
    // buffer (a copy), SSL_write seals it (the cipher's pass) and send copies the records.
    const bool tls = c.config.tls;
    ledger = {.method = s.reported_method,
              .bytes = size,
              .bytes_zero_copy = tls ? 0 : size,
              .bytes_copied_user = 0,
              .bytes_copied_kernel = tls ? 2 * size : 0,
              .bytes_ciphered = tls ? size : 0,
              .wall_s = 0,
              .cpu_user_s = used.user_s - nginx_before.user_s,
              .cpu_system_s = used.system_s - nginx_before.system_s};
  }
  ledger.wall_s = wall;
  return Download{.ledger = ledger,
                  .softirq_s = softirq,
                  .client_cpu_s = exit.cpu.total(),
                  .client_wait_s = client.run_delay_s,
                  .counters = read_counters(server_pid(s), {.tree = true}) - counters_before};
}

// The median download of one server's measured runs.
ServerFigures summarize(const std::string& label, const std::vector<Download>& runs,
                        std::uint64_t size) {
  std::vector<double> walls, cpus, softirqs, rates, clients, client_waits;
  for (const Download& d : runs) {
    clients.push_back(d.client_cpu_s);
    client_waits.push_back(d.client_wait_s);
    walls.push_back(d.ledger.wall_s);
    cpus.push_back(d.ledger.cpu_s());
    softirqs.push_back(d.softirq_s);
    rates.push_back(d.ledger.bytes_per_s());
  }
  TransferLedger m = runs.front().ledger;
  m.wall_s = median(walls);
  const double cpu = median(cpus);
  const double share = m.cpu_s() > 0 ? m.cpu_user_s / m.cpu_s() : 0;
  m.cpu_user_s = cpu * share;
  m.cpu_system_s = cpu - m.cpu_user_s;
  const double softirq_per_gb = median(softirqs) / (static_cast<double>(size) * 1e-9);
  // Softirq that ran while the CPU was otherwise idle is not the server's: never below zero.
  return ServerFigures{.label = label,
                       .ledger = m,
                       .softirq_s_per_gb = softirq_per_gb,
                       .own_cpu_s_per_gb = std::max(0.0, m.cpu_s_per_gb() - softirq_per_gb),
                       .throughput_spread = spread(rates),
                       .client_cpu_s_per_gb = median(clients) / (static_cast<double>(size) * 1e-9),
                       .client_wait_s = median(client_waits),
                       .counters = runs.front().counters};
}

struct WrkRun {
  double requests_per_s = 0;
  double memory_growth_bytes = 0;  // the server's peak resident memory during the run, less idle
  WrkTime time{};
};

// One wrk run; the server's resident memory is sampled every 50 ms while it runs and compared
// with `idle`, taken before its first run: an allocator keeps what a run grew, so the memory a
// server had before the next run says nothing of what connections cost.
std::optional<WrkRun> wrk_run(const Server& s, const Context& c, std::uint64_t idle) {
  const std::string log = c.work + "/wrk.out";
  const pid_t pid = server_pid(s);
  const ProcessCounters before = read_counters(pid, {.tree = true});
  const auto start = std::chrono::steady_clock::now();
  auto wrk = Process::spawn(
      {"wrk", "-t" + std::to_string(c.config.wrk_threads),
       "-c" + std::to_string(c.config.wrk_connections),
       "-d" + std::to_string(c.config.wrk_seconds) + "s", "--timeout", "10s", s.url + "small.bin"},
      {.out = Output::file, .err = Output::file, .file = log, .cpu = c.cpus.client});
  if (!wrk) return std::nullopt;
  std::uint64_t peak = idle;
  std::optional<Exit> done;
  while (!(done = wrk->wait_for(std::chrono::milliseconds(50))))
    peak = std::max(peak, read_counters(pid, {.tree = true}).rss_bytes);
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const ProcessCounters used = read_counters(pid, {.tree = true}) - before;
  if (done->code != 0) return std::nullopt;
  const std::string out = read_text(log);
  const std::size_t at = out.find("Requests/sec:");
  if (at == std::string::npos) return std::nullopt;
  const double rate = std::strtod(out.c_str() + at + 13, nullptr);
  const double requests = rate * wall;
  return WrkRun{
      .requests_per_s = rate,
      .memory_growth_bytes = static_cast<double>(peak - std::min(peak, idle)),
      .time = {.server_user = used.cpu.user_s / wall,
               .server_system = used.cpu.system_s / wall,
               .server_waiting = used.run_delay_s / wall,
               .client = done->cpu.total() / wall,
               .server_cpu_us_per_request = requests > 0 ? 1e6 * used.cpu.total() / requests : 0}};
}

// Our sendfile server against nginx, alternating who goes first.
Result<std::vector<WrkFigures>> compare_requests(const Server& ours, const Server& nginx,
                                                 const Context& c) {
  std::vector<WrkRun> a_runs, b_runs;
  const std::uint64_t a_idle = read_counters(server_pid(ours), {.tree = true}).rss_bytes;
  const std::uint64_t b_idle = read_counters(server_pid(nginx), {.tree = true}).rss_bytes;
  for (int round = 0; round <= c.config.repeats; ++round) {
    std::optional<WrkRun> a, b;
    if (round % 2 == 0) {
      a = wrk_run(ours, c, a_idle);
      b = wrk_run(nginx, c, b_idle);
    } else {
      b = wrk_run(nginx, c, b_idle);
      a = wrk_run(ours, c, a_idle);
    }
    if (!a || !b) return fail(Errc::rejected, "wrk", read_text(c.work + "/wrk.out"));
    if (round > 0) {
      a_runs.push_back(*a);
      b_runs.push_back(*b);
    }
  }
  auto figures = [&c](std::string label, const std::vector<WrkRun>& runs) {
    std::vector<double> rates, memory;
    for (const WrkRun& r : runs) {
      rates.push_back(r.requests_per_s);
      memory.push_back(r.memory_growth_bytes);
    }
    // Where the time went: that of the run whose rate is the median one.
    const double rate = median(rates);
    const WrkRun* middle = &runs.front();
    for (const WrkRun& r : runs)
      if (std::abs(r.requests_per_s - rate) < std::abs(middle->requests_per_s - rate)) middle = &r;
    return WrkFigures{.label = std::move(label),
                      .requests_per_s = rate,
                      .spread = spread(rates),
                      .memory_per_connection_bytes = median(memory) / c.config.wrk_connections,
                      .time = middle->time};
  };
  return std::vector<WrkFigures>{figures("serve " + ours.reported_method, a_runs),
                                 figures(nginx.label, b_runs)};
}

// Every process started from here on (servers, nginx's workers, wrk) inherits the limit: many
// connections need a descriptor each on both sides. The soft limit goes up to the hard one, and
// the hard one too where this process may raise it (CAP_SYS_RESOURCE). Returns the limit set.
Result<rlim_t> raise_descriptor_limit(int connections) {
  const auto needed = static_cast<rlim_t>(connections + 512);
  const auto wanted = static_cast<rlim_t>(2 * connections + 1024);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return fail_errno(errno, "getrlimit(RLIMIT_NOFILE)");
  if (limit.rlim_cur >= wanted) return limit.rlim_cur;
  rlimit raised{.rlim_cur = wanted, .rlim_max = std::max(limit.rlim_max, wanted)};
  if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return wanted;
  if (limit.rlim_max < needed)
    return fail(Errc::capability_missing,
                "setrlimit(RLIMIT_NOFILE, " + std::to_string(needed) + ")",
                "the hard limit is " + std::to_string(limit.rlim_max) +
                    " and raising it needs CAP_SYS_RESOURCE, for --wrk-connections " +
                    std::to_string(connections));
  raised = {.rlim_cur = limit.rlim_max, .rlim_max = limit.rlim_max};
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0)
    return fail_errno(errno, "setrlimit(RLIMIT_NOFILE, " + std::to_string(limit.rlim_max) + ")");
  return limit.rlim_max;
}

}  // namespace

Result<ServeBenchReport> run_serve_bench(const ServeBenchConfig& config) {
  if (config.repeats < 1) return fail(Errc::usage, "serve bench --repeats", "must be at least 1");
  std::vector<const char*> needed{"curl", "nginx"};
  if (config.wrk && !config.tls) needed.push_back("wrk");
  for (const char* program : needed) {
    if (!have_program(program))
      return fail(Errc::capability_missing, "zcopy serve bench",
                  std::string("needs ") + program + " (scripts/install-deps.sh installs it)");
  }
  rlim_t descriptors = 1024;
  if (config.wrk) {
    auto raised = raise_descriptor_limit(config.wrk_connections);
    if (!raised) return std::unexpected(raised.error());
    descriptors = *raised;
  }
  auto work = TempDir::create("zcopy-serve-bench");
  if (!work) return std::unexpected(work.error());
  Context c{.config = config,
            .work = work->path(),
            .exec_prefix = {},
            .cpus = server_client_cpus(),
            .descriptors = descriptors};
  ::mkdir((c.work + "/www").c_str(), 0755);
  if (auto made = write_random_file(c.work + "/www/big.bin", config.size, {.warm = true}); !made)
    return std::unexpected(made.error());
  if (auto made = write_random_file(c.work + "/www/small.bin", 4096, {.warm = true}); !made)
    return std::unexpected(made.error());

  std::optional<VethNamespace> veth;
  if (config.veth) {
    veth.emplace("b", 202);
    if (!veth->ok())
      return fail(
          Errc::capability_missing, "serve bench --veth",
          "could not create a namespace and a veth pair (needs CAP_NET_ADMIN and iproute2)");
    c.host = veth->inner_ip();
    c.exec_prefix = veth->exec({});
  }
  if (config.tls) {
    auto pki = make_tls_pki(c.work);
    if (!pki) return std::unexpected(pki.error());
    c.pki = *pki;
  }
  std::vector<Server> servers;
  // Under TLS the body method is not used: one server.
  const std::vector<const char*> methods =
      config.tls ? std::vector<const char*>{"sendfile"}
                 : std::vector<const char*>{"sendfile", "splice", "uring", "copy"};
  for (const char* method : methods) {
    auto s = start_zcopy(c, method);
    if (!s) return std::unexpected(s.error());
    servers.push_back(std::move(*s));
  }
  auto nginx = start_nginx_server(c);
  if (!nginx) return std::unexpected(nginx.error());
  servers.push_back(std::move(*nginx));

  // Interleaved rounds (a warm-up, then the measured ones), so machine noise hits every server
  // alike; each round starts with a different server, so none always follows the same one.
  std::vector<std::vector<Download>> runs(servers.size());
  for (int round = 0; round <= config.repeats; ++round) {
    for (std::size_t k = 0; k < servers.size(); ++k) {
      const std::size_t i = (k + static_cast<std::size_t>(round)) % servers.size();
      auto d = download(servers[i], c);
      if (!d) return std::unexpected(d.error());
      if (round > 0) runs[i].push_back(*d);
    }
  }
  ServeBenchReport report;
  report.pinned = c.cpus.pinned();
  for (std::size_t i = 0; i < servers.size(); ++i)
    report.servers.push_back(summarize(servers[i].label, runs[i], config.size));
  if (config.wrk && !config.tls) {
    auto wrk = compare_requests(servers.front(), servers.back(), c);
    if (!wrk) return std::unexpected(wrk.error());
    report.wrk = std::move(*wrk);
  }
  return report;
}

}  // namespace zc::bench
