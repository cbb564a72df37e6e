#include "zcopy/core/json_record.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace zc {
namespace {

TEST(JsonRecord, BenchRecordStartsWithTheThreeRequiredFields) {
  JsonRecord record = bench_record("fault-jitter", "pinned", 64ULL << 20);
  record.add("latency_p99_ns", 120.5).add("minor_faults", std::uint64_t{0}).add("huge", false);
  EXPECT_EQ(record.str(), R"({"bench":"fault-jitter","method":"pinned","size_bytes":67108864,)"
                          R"("latency_p99_ns":120.5,"minor_faults":0,"huge":false})");
}

TEST(JsonRecord, EscapesStringsSoEveryRecordStaysOneLine) {
  JsonRecord record;
  record.add("detail", "a \"quoted\"\nline\twith\\ and \x01");
  EXPECT_EQ(record.str(), R"({"detail":"a \"quoted\"\nline\twith\\ and \u0001"})");
  EXPECT_EQ(record.str().find('\n'), std::string::npos);
}

TEST(JsonRecord, NonFiniteNumbersBecomeNull) {
  JsonRecord record;
  record.add("nan", std::numeric_limits<double>::quiet_NaN())
      .add("inf", std::numeric_limits<double>::infinity())
      .add("negative", std::int64_t{-3});
  EXPECT_EQ(record.str(), R"({"nan":null,"inf":null,"negative":-3})");
}

TEST(JsonRecord, LargeRatesKeepSixSignificantDigits) {
  JsonRecord record;
  record.add("bytes_per_s", 9.81234567e9);
  EXPECT_EQ(record.str(), R"({"bytes_per_s":9.81235e+09})");
}

}  // namespace
}  // namespace zc
