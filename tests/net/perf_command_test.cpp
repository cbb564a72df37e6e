// `zcopy perf server|client` run as a user would, on loopback: every method delivers and reports
// its ledger as one JSON record.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "bench/support/peer_server.hpp"
#include "bench/support/process.hpp"
#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"

namespace {

using zc::test::output_of;

std::string tool() {
  return zc::test::zcopy_tool();
}

// A `zcopy perf server --once` in a child process, killed and reaped if still running at the end.
class PerfServer {
 public:
  explicit PerfServer(std::uint16_t port) : port_(port) {
    auto child = zc::bench::Process::spawn(
        {tool(), "perf", "server", "--port", std::to_string(port), "--once"},
        {.out = zc::bench::Output::inherit, .err = zc::bench::Output::inherit});
    if (child) process_ = std::move(*child);
  }
  // Waits until the port listens (without connecting: the server serves one connection).
  bool ready() const {
    for (int i = 0; i < 500; ++i) {
      if (!output_of("ss -Hltn 'sport = :" + std::to_string(port_) + "'").empty()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  std::optional<int> wait() {
    if (!process_.running()) return std::nullopt;
    return process_.wait().code;
  }

 private:
  std::uint16_t port_;
  zc::bench::Process process_;
};

class PerfCommand : public ::testing::TestWithParam<const char*> {};

TEST_P(PerfCommand, ClientReportsTheLedgerAsJson) {
  ZC_REQUIRE_TOOL();
  const std::uint16_t port = zc::bench::free_port();
  ASSERT_NE(port, 0);
  PerfServer server(port);
  ASSERT_TRUE(server.ready());
  const std::string method = GetParam();
  const std::string out =
      output_of(tool() + " perf client --port " + std::to_string(port) + " --method " + method +
                " --size 64K --working-set 8M --seconds 0.2 --json 2>&1");
  EXPECT_EQ(server.wait(), 0);
  EXPECT_NE(out.find("\"bench\":\"perf\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"method\":\"" + method + "\""), std::string::npos) << out;
  EXPECT_NE(out.find("\"size_bytes\":65536"), std::string::npos) << out;
  EXPECT_NE(out.find("\"cpu_s_per_gb\":"), std::string::npos) << out;
  EXPECT_NE(out.find("\"bytes_zero_copy\":"), std::string::npos) << out;
  EXPECT_NE(out.find("\"notifications_per_s\":"), std::string::npos) << out;
  if (method == "auto") {
    // Loopback copies zero-copy sends, so auto starts measuring one against the other.
    EXPECT_NE(out.find("\"method_trials\":1"), std::string::npos) << out;
    EXPECT_NE(out.find("measur"), std::string::npos) << out;
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, PerfCommand,
                         ::testing::Values("auto", "zerocopy", "uring-zc", "copy", "sendfile"));

TEST(PerfCommandUsage, RejectsAnUnknownMethodAndBadSizes) {
  ZC_REQUIRE_TOOL();
  EXPECT_NE(
      zc::test::run_command(tool() + " perf client --port 1 --method carrier-pigeon 2>/dev/null")
          .exit_code,
      0);
  const std::string out =
      output_of(tool() + " perf client --port 1 --size 2M --working-set 1M 2>&1; echo rc=$?");
  EXPECT_NE(out.find("--working-set"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=2"), std::string::npos) << out;
}

}  // namespace
