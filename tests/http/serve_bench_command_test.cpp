// `zcopy serve bench --json` run as a user would, small: one record per server, each with the
// throughput against nginx and the server's CPU split into softirq and its own; our servers'
// figures are what each server measured itself, and the wrk row names the method it measured.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/support/json_fields.hpp"
#include "http_test_support.hpp"
#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"

namespace zc::http {
namespace {

// The number after `"key":` in a one-line record; NaN when absent.
double number_field(const std::string& line, const std::string& key) {
  return bench::number_field(line, key).value_or(std::nan(""));
}

std::string string_field(const std::string& line, const std::string& key) {
  return bench::string_field(line, key).value_or("");
}

// The records `zcopy serve bench ARGS --json` prints, after checking it succeeded.
std::vector<std::string> bench_records(const std::string& args) {
  const auto run = test::run_command(test::zcopy_tool() + " serve bench " + args + " --json 2>&1");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::vector<std::string> records;
  std::istringstream lines(run.output);
  for (std::string line; std::getline(lines, line);) records.push_back(line);
  return records;
}

TEST(ServeBench, ReportsEveryServerWithItsCpuSplit) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nginx");
  ZC_REQUIRE_PROGRAM("curl");
  std::set<std::string> servers;
  for (const std::string& line : bench_records("--size 8M --repeats 1 --no-wrk")) {
    ASSERT_EQ(line.rfind("{\"bench\":\"serve-loopback\"", 0), 0u) << line;
    servers.insert(string_field(line, "server"));
    EXPECT_GT(number_field(line, "bytes_per_s"), 0) << line;
    EXPECT_GT(number_field(line, "vs_nginx_throughput"), 0) << line;
    const double cpu = number_field(line, "cpu_s_per_gb");
    const double softirq = number_field(line, "softirq_s_per_gb");
    const double own = number_field(line, "own_cpu_s_per_gb");
    EXPECT_GE(softirq, 0) << line;
    EXPECT_GE(own, 0) << line;
    EXPECT_LE(own, cpu + 1e-9) << "own CPU is CPU less softirq: " << line;
  }
  EXPECT_EQ(servers, (std::set<std::string>{"serve sendfile", "serve splice", "serve uring",
                                            "serve copy", "nginx"}));
}

TEST(ServeBench, TlsComparesServeCertWithNginxSslAndCountsTheCipherPass) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nginx");
  ZC_REQUIRE_PROGRAM("curl");
  ZC_REQUIRE_PROGRAM("openssl");
  std::set<std::string> servers;
  for (const std::string& line : bench_records("--tls --size 8M --repeats 1")) {
    ASSERT_EQ(line.rfind("{\"bench\":\"serve-tls\"", 0), 0u) << line;
    servers.insert(string_field(line, "server"));
    EXPECT_GT(number_field(line, "bytes_per_s"), 0) << line;
    EXPECT_EQ(number_field(line, "bytes_ciphered"), 8 << 20) << line;
  }
  EXPECT_EQ(servers, (std::set<std::string>{"serve --cert", "nginx ssl"}));
}

// /proc/PID/stat counts CPU in clock ticks (10 ms here); a server's own ledger (getrusage) counts
// microseconds. A bench that read our servers from /proc would print whole ticks only.
TEST(ServeBench, TakesOurServersFiguresFromTheirOwnLedgers) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nginx");
  ZC_REQUIRE_PROGRAM("curl");
  int ours = 0;
  int finer_than_a_tick = 0;
  for (const std::string& line : bench_records("--size 8M --repeats 1 --no-wrk")) {
    if (string_field(line, "server").rfind("serve ", 0) != 0) continue;
    ++ours;
    EXPECT_EQ(number_field(line, "bytes_zero_copy") + number_field(line, "bytes_copied_kernel"),
              string_field(line, "server") == "serve copy" ? 2 * (8 << 20) : 8 << 20)
        << line;
    const double ticks = (number_field(line, "cpu_user_s") + number_field(line, "cpu_system_s")) *
                         static_cast<double>(::sysconf(_SC_CLK_TCK));
    if (std::abs(ticks - std::round(ticks)) > 1e-3) ++finer_than_a_tick;
  }
  EXPECT_EQ(ours, 4);
  EXPECT_GT(finer_than_a_tick, 0) << "every server's CPU was a whole number of clock ticks";
}

TEST(ServeBench, NamesTheWrkRowAfterTheMethodItsServerReported) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nginx");
  ZC_REQUIRE_PROGRAM("curl");
  ZC_REQUIRE_PROGRAM("wrk");
  std::vector<std::string> methods;
  for (const std::string& line :
       bench_records("--size 1M --repeats 1 --wrk-seconds 1 --wrk-connections 4")) {
    if (line.rfind("{\"bench\":\"serve-wrk-4k\"", 0) != 0) continue;
    methods.push_back(string_field(line, "method"));
    EXPECT_GT(number_field(line, "ops_per_s"), 0) << line;
  }
  EXPECT_EQ(methods, (std::vector<std::string>{"serve sendfile", "nginx"}));
}

}  // namespace
}  // namespace zc::http
