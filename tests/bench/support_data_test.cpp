// bench/support: scratch directories, generated data, run statistics and reading records back.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "bench/support/data.hpp"
#include "bench/support/json_fields.hpp"
#include "bench/support/stats.hpp"
#include "zcopy/core/json_record.hpp"

namespace zc::bench {
namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

TEST(TempDir, IsRemovedWithEverythingInIt) {
  std::string path;
  {
    TempDir dir("zcopy-bench-test");
    path = dir.path();
    ASSERT_TRUE(exists(path));
    ASSERT_EQ(::mkdir((dir / "sub").c_str(), 0755), 0);
    std::ofstream(dir / "sub/file") << "data";
    TempDir moved = std::move(dir);
    EXPECT_EQ(moved.path(), path);
  }
  EXPECT_FALSE(exists(path));
  auto bad = TempDir::create("x", "/nonexistent-parent");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().sys_errno(), ENOENT);
}

TEST(RandomData, IsTheSameForASeedAndDiffersAcrossSeedsAndBlocks) {
  EXPECT_EQ(random_bytes(1000, 3), random_bytes(1000, 3));
  EXPECT_NE(random_bytes(1000, 3), random_bytes(1000, 4));
  EXPECT_EQ(random_bytes(13, 3), random_bytes(1000, 3).substr(0, 13));
  TempDir dir;
  const std::uint64_t size = (3 << 20) + 5;
  ASSERT_TRUE(write_random_file(dir / "f", size, {.seed = 3, .sync = true, .warm = true}));
  const std::string bytes = read_text(dir / "f");
  ASSERT_EQ(bytes.size(), size);
  EXPECT_EQ(bytes.substr(0, 1000), random_bytes(1000, 3)) << "the file starts as the string does";
  EXPECT_NE(bytes.substr(0, 1 << 20), bytes.substr(1 << 20, 1 << 20)) << "no two MiB alike";
  ASSERT_TRUE(write_random_file(dir / "empty", 0));
  EXPECT_TRUE(exists(dir / "empty"));
  EXPECT_EQ(read_text(dir / "empty"), "");
}

TEST(RunStatistics, MedianSpreadAndPercentiles) {
  EXPECT_EQ(median({}), 0);
  EXPECT_EQ(median({3, 1, 2}), 2);
  EXPECT_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_EQ(spread({5}), 0);
  EXPECT_DOUBLE_EQ(spread({90, 100, 110}), 0.2);
  std::vector<double> samples;
  for (int i = 1000; i >= 1; --i) samples.push_back(i);
  const Percentiles p = percentiles(samples);
  EXPECT_EQ(p.count, 1000U);
  EXPECT_EQ(p.p50, 500);
  EXPECT_EQ(p.p99, 990);
  EXPECT_EQ(p.max, 1000);
}

TEST(JsonFields, ReadOurRecordsBack) {
  JsonRecord r = bench_record("serve", "a \"quoted\" method", 123);
  r.add("bytes_per_s", 2.5e9).add("pinned", true).add("requests", std::uint64_t{7});
  const std::string line = r.str();
  EXPECT_EQ(string_field(line, "method"), "a \"quoted\" method");
  EXPECT_EQ(number_field(line, "size_bytes"), 123);
  EXPECT_EQ(number_field(line, "bytes_per_s"), 2.5e9);
  EXPECT_EQ(number_field(line, "requests"), 7);
  EXPECT_EQ(number_field(line, "missing"), std::nullopt);
  EXPECT_EQ(number_field(line, "method"), std::nullopt) << "a string is not a number";
  EXPECT_EQ(string_field(line, "requests"), std::nullopt);
}

}  // namespace
}  // namespace zc::bench
