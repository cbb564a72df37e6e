// `zcopy serve bench --json` run as a user would, small: one record per server, each with the
// throughput against nginx and the server's CPU split into softirq and its own.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>

#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"

namespace zc::http {
namespace {

// The number after `"key":` in a one-line record; NaN when absent.
double number_field(const std::string& line, const std::string& key) {
  const std::string open = "\"" + key + "\":";
  const std::size_t at = line.find(open);
  if (at == std::string::npos) return std::nan("");
  return std::strtod(line.c_str() + at + open.size(), nullptr);
}

TEST(ServeBench, ReportsEveryServerWithItsCpuSplit) {
  const std::string tool = test::zcopy_tool();
  ZC_REQUIRE_TOOL();
  if (std::system("command -v nginx >/dev/null && command -v curl >/dev/null") != 0) {
    ZC_SKIP_BECAUSE("needs nginx and curl (scripts/install-deps.sh installs them)");
  }
  const auto run =
      test::run_command(tool + " serve bench --size 8M --repeats 1 --no-wrk --json 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::string& out = run.output;
  std::set<std::string> servers;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    ASSERT_EQ(line.rfind("{\"bench\":\"serve-loopback\"", 0), 0u) << line;
    const std::size_t at = line.find("\"server\":\"");
    ASSERT_NE(at, std::string::npos) << line;
    servers.insert(line.substr(at + 10, line.find('"', at + 10) - at - 10));
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
                                            "serve copy", "nginx"}))
      << out;
}

}  // namespace
}  // namespace zc::http
