// The net part: memory-to-socket throughput of each send method over loopback (bench/net's
// perf sender against its receiver in a child process), each method's own ledger, and iperf3
// (plain and -Z, its sendfile path) with the same send sizes beside it.
#include <charconv>
#include <thread>

#include "bench/net/perf_receiver.hpp"
#include "bench/net/perf_sender.hpp"
#include "bench/suite/part.hpp"
#include "bench/support/json_fields.hpp"
#include "bench/support/peer_server.hpp"
#include "bench/support/process.hpp"
#include "bench/support/process_counters.hpp"
#include "bench/support/stats.hpp"

namespace zc::bench {
namespace {

double per_gb(double seconds, double bytes) {
  return bytes > 0 ? seconds / (bytes / 1e9) : 0;
}

// The figures iperf3 -J prints at its end: bytes and seconds sent, its own CPU share.
Result<Measurement> run_iperf3(std::uint16_t port, std::uint64_t size, double seconds, bool z) {
  std::vector<std::string> argv{"iperf3",
                                "-c",
                                "127.0.0.1",
                                "-p",
                                std::to_string(port),
                                "-l",
                                std::to_string(size),
                                "-t",
                                std::to_string(std::max(1, static_cast<int>(seconds))),
                                "-J"};
  if (z) argv.push_back("-Z");
  const RunResult run = zc::bench::run(argv, false);
  if (run.exit_code != 0)
    return fail(Errc::system, "iperf3", "exited with " + std::to_string(run.exit_code));
  const std::size_t end = run.output.find("\"end\"");
  const std::string_view tail =
      end == std::string::npos ? std::string_view{} : std::string_view(run.output).substr(end);
  const std::size_t sent_at = tail.find("\"sum_sent\"");
  const std::size_t cpu_at = tail.find("\"cpu_utilization_percent\"");
  if (sent_at == std::string::npos || cpu_at == std::string::npos)
    return fail(Errc::corrupt, "iperf3 -J", "no end.sum_sent or cpu_utilization_percent");
  const double bytes = number_field(tail.substr(sent_at), "bytes").value_or(0);
  const double secs = number_field(tail.substr(sent_at), "seconds").value_or(0);
  const double user = number_field(tail.substr(cpu_at), "host_user").value_or(0) / 100 * secs;
  const double system = number_field(tail.substr(cpu_at), "host_system").value_or(0) / 100 * secs;
  Measurement m{.module = "net",
                .bench = "net-send-loopback",
                .method = z ? "iperf3 -Z" : "iperf3",
                .side = Side::peer};
  m.size_bytes = size;
  m.unit_note = "send";
  m.bytes_per_s = secs > 0 ? bytes / secs : 0;
  m.cpu_user_s_per_gb = per_gb(user, bytes);
  m.cpu_system_s_per_gb = per_gb(system, bytes);
  m.cpu_of = "the sending process (iperf3's own CPU figure)";
  return m;
}

}  // namespace

Result<PartOutput> run_net_part(const SuiteConfig& c) {
  PartOutput out;
  auto receiver = PerfReceiver::open("127.0.0.1", 0, false);
  if (!receiver) return std::unexpected(receiver.error());
  const std::string& address = receiver->address();
  std::uint16_t port = 0;
  const std::string digits = address.substr(address.rfind(':') + 1);
  std::from_chars(digits.data(), digits.data() + digits.size(), port);
  auto child = Process::fork([&] {
    for (;;) {
      if (!receiver->next()) return 1;
    }
  });
  if (!child) return std::unexpected(child.error());

  const std::vector<std::uint64_t> sizes =
      c.full ? std::vector<std::uint64_t>{4096, 65536, 1 << 20} : std::vector<std::uint64_t>{65536};
  const double seconds = c.full ? 2.0 : 0.5;
  const unsigned repeats = c.full ? 3 : 1;
  const std::vector<std::string> methods{"auto", "zerocopy", "uring-zc", "sendfile", "copy"};

  std::optional<PeerServer> iperf;
  const std::uint16_t iperf_port = free_port();
  if (have_program("iperf3")) {
    auto started = PeerServer::start({"iperf3", "-s", "-p", std::to_string(iperf_port)},
                                     "127.0.0.1", iperf_port, "/dev/null", "iperf3");
    if (started)
      iperf.emplace(std::move(*started));
    else
      out.notes.push_back("iperf3 did not start: " + started.error().message());
  } else {
    out.notes.push_back("iperf3 is not installed (scripts/install-deps.sh installs it)");
  }

  for (const std::uint64_t size : sizes) {
    for (const std::string& method : methods) {
      std::vector<double> rates, users, systems;
      PerfSendReport last;
      ProcessCounters used;
      for (unsigned r = 0; r < repeats; ++r) {
        PerfSendConfig config{.port = port, .method = method, .size = size, .seconds = seconds};
        const ProcessCounters before = read_own_counters();
        auto report = run_perf_sender(config);
        if (!report) {
          out.notes.push_back(method + " " + std::to_string(size) + ": " +
                              report.error().message());
          break;
        }
        used = read_own_counters() - before;
        rates.push_back(report->ledger.bytes_per_s());
        const double gb = static_cast<double>(report->ledger.bytes) / 1e9;
        users.push_back(gb > 0 ? report->ledger.cpu_user_s / gb : 0);
        systems.push_back(gb > 0 ? report->ledger.cpu_system_s / gb : 0);
        last = *report;
      }
      if (rates.empty()) continue;
      Measurement m{.module = "net",
                    .bench = "net-send-loopback",
                    .method = method,
                    .side = method == "copy" ? Side::baseline : Side::ours};
      m.size_bytes = size;
      m.unit_note = "send";
      m.bytes_per_s = median(rates);
      m.cpu_user_s_per_gb = median(users);
      m.cpu_system_s_per_gb = median(systems);
      m.cpu_of = "the sending process (its own ledger)";
      m.repetitions = static_cast<unsigned>(rates.size());
      m.spread = spread(rates);
      m.ledger = MeasuredLedger{.bytes = last.ledger.bytes,
                                .bytes_zero_copy = last.ledger.bytes_zero_copy,
                                .bytes_copied_user = last.ledger.bytes_copied_user,
                                .bytes_copied_kernel = last.ledger.bytes_copied_kernel,
                                .source = LedgerSource::own};
      m.counters = MeasuredCounters::from(used);
      if (!last.sendfile) m.note = "method used: " + std::string(net::to_string(last.stats.method));
      out.rows.push_back(m);
    }
    if (iperf) {
      for (const bool z : {false, true}) {
        std::vector<Measurement> runs;
        for (unsigned r = 0; r < repeats; ++r) {
          auto m = run_iperf3(iperf_port, size, seconds, z);
          if (!m) {
            out.notes.push_back(std::string(z ? "iperf3 -Z: " : "iperf3: ") + m.error().message());
            break;
          }
          runs.push_back(*m);
        }
        if (runs.empty()) continue;
        std::vector<double> rates;
        for (const Measurement& m : runs) rates.push_back(*m.bytes_per_s);
        Measurement m = runs.front();
        for (const Measurement& other : runs)
          if (*other.bytes_per_s == median(rates)) m = other;
        m.bytes_per_s = median(rates);
        m.repetitions = static_cast<unsigned>(runs.size());
        m.spread = spread(rates);
        out.rows.push_back(m);
      }
    }
  }
  child->kill();
  return out;
}

}  // namespace zc::bench
