// `zcopy channel bench --nats --quick --json`: two namespaces joined by veth, a nats-server in
// each; every method at every subscriber count leaves a record with its figures (the ratios are
// the benchmark's business, not a test's).
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <string>

#include "bench/support/json_fields.hpp"
#include "bench/support/process.hpp"
#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"

namespace zc::test {
namespace {

TEST(NatsBenchCommand, QuickRunLeavesARecordPerMethodAndSubscriberCount) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("nats-server");
  ZC_REQUIRE_ROOT("the bench makes a network namespace and a veth pair");
  const bench::RunResult result =
      bench::run({zcopy_tool(), "channel", "bench", "--nats", "--quick", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::set<std::string> seen;
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.front() != '{') continue;
    EXPECT_EQ(bench::string_field(line, "bench"), "channel-nats") << line;
    const auto subscribers = bench::number_field(line, "subscribers");
    const auto rate = bench::number_field(line, "bytes_per_s");
    const auto cpu = bench::number_field(line, "cpu_s_per_gb");
    ASSERT_TRUE(subscribers && rate && cpu) << line;
    EXPECT_GT(*rate, 0) << line;
    EXPECT_GT(*cpu, 0) << line;
    seen.insert(bench::string_field(line, "method").value_or("?") + "/" +
                std::to_string(static_cast<int>(*subscribers)));
  }
  EXPECT_EQ(seen, (std::set<std::string>{"bridge/1", "bridge/2", "nats/1", "nats/2"}))
      << result.output;
}

}  // namespace
}  // namespace zc::test
