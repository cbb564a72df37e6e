// The ledger check of `zcopy bench` on rows whose figures are given: each rule fires where a
// claimed ledger and the CPU spent cannot both be true, and stays quiet where they can.
#include "bench/suite/ledger_check.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "bench/suite/suite.hpp"

namespace zc::bench {
namespace {

constexpr std::uint64_t kBytes = 1'000'000'000;

CopyCost cost() {
  return CopyCost{.points = {{.chunk = 65536, .warm_s_per_gb = 0.05, .cold_s_per_gb = 0.15}},
                  .lower_s_per_gb = 0.05,
                  .upper_s_per_gb = 0.15,
                  .syscall_s = 100e-9};
}

Measurement row(const std::string& method, double copies, double cpu_s_per_gb,
                LedgerSource source = LedgerSource::own) {
  Measurement m{.module = "serve", .bench = "serve-loopback", .method = method};
  m.size_bytes = kBytes;
  m.bytes_per_s = 1e9;
  m.cpu_user_s_per_gb = cpu_s_per_gb / 4;
  m.cpu_system_s_per_gb = cpu_s_per_gb * 3 / 4;
  const auto copied = static_cast<std::uint64_t>(copies * static_cast<double>(kBytes));
  m.ledger = MeasuredLedger{.bytes = kBytes,
                            .bytes_zero_copy = copied >= kBytes ? 0 : kBytes - copied,
                            .bytes_copied_user = 0,
                            .bytes_copied_kernel = copied,
                            .source = source};
  return m;
}

const std::string& verdict(const std::vector<Measurement>& rows, const std::string& method) {
  for (const Measurement& m : rows)
    if (m.method == method) return m.verdict.status;
  static const std::string none = "no such row";
  return none;
}

TEST(LedgerCheck, AgreesWhenEachRowsCopiesExplainItsCpu) {
  std::vector<Measurement> rows{row("sendfile", 0, 0.06), row("splice", 0, 0.09),
                                row("copy", 2, 0.33)};
  check_ledgers(rows, cost());
  EXPECT_EQ(verdict(rows, "sendfile"), "agrees");
  EXPECT_EQ(verdict(rows, "splice"), "agrees");
  EXPECT_EQ(verdict(rows, "copy"), "agrees") << rows[2].verdict.reason;
}

TEST(LedgerCheck, FlagsACopyMethodThatClaimsZeroCopies) {
  std::vector<Measurement> rows{row("sendfile", 0, 0.06), row("splice", 0, 0.09),
                                row("copy", 0, 0.33)};
  check_ledgers(rows, cost());
  EXPECT_EQ(verdict(rows, "copy"), "disagrees");
  EXPECT_NE(rows[2].verdict.reason.find("unaccounted"), std::string::npos)
      << rows[2].verdict.reason;
  EXPECT_DOUBLE_EQ(rows[2].verdict.measured_cpu_s_per_gb, 0.33);
  EXPECT_EQ(verdict(rows, "sendfile"), "agrees");
}

TEST(LedgerCheck, FlagsCopiesThatWouldHaveCostMoreCpuThanWasSpent) {
  std::vector<Measurement> rows{row("sendfile", 4, 0.06)};
  check_ledgers(rows, cost());
  EXPECT_EQ(verdict(rows, "sendfile"), "disagrees");
  EXPECT_NE(rows[0].verdict.reason.find("but the process used"), std::string::npos);
}

TEST(LedgerCheck, HoldsAProcIoLedgerOnlyToTheFirstRule) {
  // /proc/PID/io does not see recv() or user-space copies: much CPU beside few counted copies
  // is no disagreement.
  std::vector<Measurement> rows{row("sendfile", 0, 0.06),
                                row("curl", 1, 0.9, LedgerSource::proc_io)};
  check_ledgers(rows, cost());
  EXPECT_EQ(verdict(rows, "curl"), "agrees");
}

TEST(LedgerCheck, LeavesRowsWithoutALedgerUnchecked) {
  std::vector<Measurement> rows{row("nginx", 0, 0.1)};
  rows[0].ledger.reset();
  check_ledgers(rows, cost());
  EXPECT_EQ(verdict(rows, "nginx"), "not checked");
  EXPECT_FALSE(rows[0].verdict.reason.empty());
}

TEST(LedgerCheck, DoesNotCheckWhenACopyCouldNotBeMeasured) {
  std::vector<Measurement> rows{row("copy", 0, 0.33)};
  check_ledgers(rows, CopyCost{});
  EXPECT_EQ(verdict(rows, "copy"), "not checked");
}

TEST(PeerComparison, RatesLatencyAndThroughputSoThatAboveOneIsBetter) {
  Measurement fast{.module = "channel", .bench = "lat", .method = "ours"};
  fast.latency_p50_ns = 1000;
  Measurement slow{.module = "channel", .bench = "lat", .method = "pipe", .side = Side::peer};
  slow.latency_p50_ns = 2000;
  Measurement rate{.module = "serve", .bench = "dl", .method = "sendfile"};
  rate.bytes_per_s = 1e9;
  Measurement nginx{.module = "serve", .bench = "dl", .method = "nginx", .side = Side::peer};
  nginx.bytes_per_s = 2e9;
  std::vector<Measurement> rows{fast, slow, rate, nginx};
  compare_with_peers(rows);
  ASSERT_TRUE(rows[0].versus_ratio.has_value());
  EXPECT_DOUBLE_EQ(*rows[0].versus_ratio, 2.0);
  EXPECT_EQ(rows[0].versus, "pipe");
  ASSERT_TRUE(rows[2].versus_ratio.has_value());
  EXPECT_DOUBLE_EQ(*rows[2].versus_ratio, 0.5);
  EXPECT_FALSE(rows[1].versus_ratio.has_value()) << "peers are not compared with themselves";
}

}  // namespace
}  // namespace zc::bench
