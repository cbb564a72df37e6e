#include "zcopy/core/units.hpp"

#include <gtest/gtest.h>

namespace zc {
namespace {

TEST(ParseSize, AcceptsPlainNumbersAndBinarySuffixesInAnyCase) {
  EXPECT_EQ(parse_size("4096").value(), 4096U);
  EXPECT_EQ(parse_size("64K").value(), 64U * 1024);
  EXPECT_EQ(parse_size("64k").value(), 64U * 1024);
  EXPECT_EQ(parse_size("1M").value(), 1024U * 1024);
  EXPECT_EQ(parse_size("1MiB").value(), 1024U * 1024);
  EXPECT_EQ(parse_size("1mb").value(), 1024U * 1024);
  EXPECT_EQ(parse_size("2G").value(), 2ULL * 1024 * 1024 * 1024);
  EXPECT_EQ(parse_size("1T").value(), 1ULL << 40);
  EXPECT_EQ(parse_size("512B").value(), 512U);
}

TEST(ParseSize, AcceptsFractions) {
  EXPECT_EQ(parse_size("1.5K").value(), 1536U);
  EXPECT_EQ(parse_size("0.5G").value(), 512ULL * 1024 * 1024);
}

TEST(ParseSize, RejectsMalformedTextWithTheTextInTheMessage) {
  for (const char* bad : {"", "K", "-1", "12Q", "1.2.3", " 4", "4 K", "0x10", "1e6"}) {
    const auto size = parse_size(bad);
    ASSERT_FALSE(size.has_value()) << bad;
    EXPECT_EQ(size.error().code(), Errc::invalid_argument);
    EXPECT_NE(size.error().message().find(std::string("'") + bad + "'"), std::string::npos)
        << size.error().message();
  }
}

TEST(ParseSize, RejectsValuesThatDoNotFitIn64Bits) {
  EXPECT_EQ(parse_size("18446744073709551615").value(), 18446744073709551615ULL);
  EXPECT_FALSE(parse_size("18446744073709551616").has_value());
  EXPECT_FALSE(parse_size("16777216T").has_value());
}

TEST(FormatBytes, UsesBinaryUnitsWithOneDecimal) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(format_bytes(64 * kMiB), "64.0 MiB");
  EXPECT_EQ(format_bytes(3 * kGiB / 2), "1.5 GiB");
}

TEST(FormatNanos, PicksAReadableUnit) {
  EXPECT_EQ(format_nanos(812), "812 ns");
  EXPECT_EQ(format_nanos(12'400), "12.4 us");
  EXPECT_EQ(format_nanos(3'100'000), "3.10 ms");
  EXPECT_EQ(format_nanos(1'250'000'000), "1.25 s");
}

TEST(FormatRate, UsesDecimalUnitsAsNetworksDo) {
  EXPECT_EQ(format_rate(9.81e9), "9.81 GB/s");
  EXPECT_EQ(format_rate(125e6), "125.0 MB/s");
  EXPECT_EQ(format_rate(2e3), "2.0 kB/s");
}

}  // namespace
}  // namespace zc
