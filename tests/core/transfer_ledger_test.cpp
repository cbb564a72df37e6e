#include "zcopy/core/transfer_ledger.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace zc {
namespace {

TEST(TransferLedger, CpuPerGbAndRate) {
  TransferLedger ledger{.method = "copy",
                        .bytes = 2'000'000'000,
                        .bytes_copied_user = 0,
                        .bytes_copied_kernel = 4'000'000'000,
                        .wall_s = 4.0,
                        .cpu_user_s = 0.5,
                        .cpu_system_s = 1.5};
  EXPECT_DOUBLE_EQ(ledger.cpu_s_per_gb(), 1.0);
  EXPECT_DOUBLE_EQ(ledger.bytes_per_s(), 5e8);
  EXPECT_EQ(ledger.bytes_copied(), 4'000'000'000u);
  EXPECT_EQ(TransferLedger{}.cpu_s_per_gb(), 0.0);
  EXPECT_EQ(TransferLedger{}.bytes_per_s(), 0.0);
}

TEST(TransferLedger, RecordCarriesTheLedgerFields) {
  TransferLedger ledger{.method = "sendfile",
                        .bytes = 1000,
                        .bytes_zero_copy = 1000,
                        .bytes_copied_user = 0,
                        .bytes_copied_kernel = 1000,
                        .wall_s = 1.0};
  const std::string json = ledger.record("serve").str();
  for (const char* field :
       {R"("bench":"serve")", R"("method":"sendfile")", R"("size_bytes":1000)",
        R"("bytes_zero_copy":1000)", R"("bytes_copied":1000)", R"("bytes_copied_kernel":1000)",
        R"("cpu_s_per_gb":)", R"("bytes_per_s":1000)"}) {
    EXPECT_NE(json.find(field), std::string::npos) << field << " in " << json;
  }
  EXPECT_NE(ledger.summary().find("sendfile"), std::string::npos);
}

TEST(TransferLedger, ASmallTransferSaysItsCpuTimeNotARateScaledToAGigabyte) {
  TransferLedger tiny{
      .method = "copy", .bytes = 6, .wall_s = 0.001, .cpu_user_s = 0.002, .cpu_system_s = 0.001};
  EXPECT_EQ(tiny.summary().find("s/GB"), std::string::npos) << tiny.summary();
  EXPECT_NE(tiny.summary().find("CPU 3.0 ms"), std::string::npos) << tiny.summary();
  TransferLedger large{
      .method = "splice", .bytes = 1'000'000'000, .wall_s = 1.0, .cpu_system_s = 0.25};
  EXPECT_NE(large.summary().find("CPU 0.250 s/GB"), std::string::npos) << large.summary();
}

TEST(TransferLedger, TheCipherPassStandsBesideTheCopiesInTheRecordAndTheSummary) {
  TransferLedger ledger{.method = "tls-in-place",
                        .bytes = 4096,
                        .bytes_copied_kernel = 4096,
                        .bytes_ciphered = 4096,
                        .wall_s = 1.0};
  EXPECT_NE(ledger.record("get").str().find(R"("bytes_ciphered":4096)"), std::string::npos);
  EXPECT_NE(ledger.summary().find("4.0 KiB through the cipher"), std::string::npos)
      << ledger.summary();
  EXPECT_EQ(ledger.bytes_copied(), 4096u) << "the cipher pass is not a copy";
  TransferLedger plain{.method = "sendfile", .bytes = 1, .bytes_zero_copy = 1};
  EXPECT_EQ(plain.record("serve").str().find("bytes_ciphered"), std::string::npos);
  EXPECT_EQ(plain.summary().find("cipher"), std::string::npos);
  plain.merge(ledger);
  EXPECT_EQ(plain.bytes_ciphered, 4096u);
}

TEST(TransferLedger, MergeAddsBytesAndCpuAndKeepsTheLongestWall) {
  TransferLedger a{
      .method = "splice", .bytes = 10, .bytes_zero_copy = 10, .wall_s = 2, .cpu_user_s = 1};
  const TransferLedger b{
      .method = "splice", .bytes = 5, .bytes_copied_kernel = 5, .wall_s = 3, .cpu_system_s = 2};
  a.merge(b);
  EXPECT_EQ(a.bytes, 15u);
  EXPECT_EQ(a.bytes_zero_copy, 10u);
  EXPECT_EQ(a.bytes_copied_kernel, 5u);
  EXPECT_DOUBLE_EQ(a.wall_s, 3);
  EXPECT_DOUBLE_EQ(a.cpu_s(), 3);
}

TEST(TransferLedger, AHashingPassIsItsOwnFieldAndNotACopy) {
  TransferLedger a{.method = "splice", .bytes = 100, .bytes_zero_copy = 100};
  EXPECT_EQ(a.summary().find("hashed"), std::string::npos) << "no pass, nothing said";
  a.merge({.method = "", .bytes_hashed = 100});
  EXPECT_EQ(a.bytes_hashed, 100u);
  EXPECT_EQ(a.bytes_copied(), 0u);
  EXPECT_NE(a.record("get").str().find(R"("bytes_hashed":100)"), std::string::npos);
  EXPECT_NE(a.summary().find("100 B hashed"), std::string::npos) << a.summary();
}

TEST(CpuStopwatch, CountsThisThreadsWork) {
  CpuStopwatch watch(CpuStopwatch::Scope::thread);
  std::vector<char> a(64 << 20, 'x'), b(64 << 20);
  for (int i = 0; i < 8; ++i) {
    std::memcpy(b.data(), a.data(), a.size());
    a[static_cast<std::size_t>(i)] = b[static_cast<std::size_t>(i + 1)];
  }
  TransferLedger ledger;
  watch.stop_into(ledger);
  EXPECT_GT(ledger.cpu_s(), 0.0);
  EXPECT_GT(ledger.wall_s, 0.0);
  // CPU time can exceed wall time only by the clocks' granularity for one thread.
  EXPECT_LE(ledger.cpu_s(), ledger.wall_s + 0.02);
}

}  // namespace
}  // namespace zc
