#include "zcopy/http/byte_range.hpp"

#include <gtest/gtest.h>

namespace zc::http {
namespace {

using Kind = RangeRequest::Kind;

TEST(ByteRange, ResolvesTheThreeFormsOfOneRange) {
  RangeRequest r = parse_range("bytes=10-19", 100);
  EXPECT_EQ(r.kind, Kind::satisfiable);
  EXPECT_EQ(r.first, 10U);
  EXPECT_EQ(r.last, 19U);
  EXPECT_EQ(r.length(), 10U);
  r = parse_range("bytes=90-", 100);
  EXPECT_EQ(r.kind, Kind::satisfiable);
  EXPECT_EQ(r.last, 99U);
  r = parse_range("bytes=-30", 100);
  EXPECT_EQ(r.first, 70U);
  EXPECT_EQ(r.last, 99U);
}

TEST(ByteRange, ClampsTheEndAndTheSuffixToTheFile) {
  RangeRequest r = parse_range("bytes=50-1000", 100);
  EXPECT_EQ(r.last, 99U);
  r = parse_range("bytes=-1000", 100);
  EXPECT_EQ(r.first, 0U);
  EXPECT_EQ(r.last, 99U);
}

TEST(ByteRange, StartsBeyondTheEndAreUnsatisfiable) {
  EXPECT_EQ(parse_range("bytes=100-", 100).kind, Kind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=0-0", 0).kind, Kind::unsatisfiable);
  EXPECT_EQ(parse_range("bytes=-0", 100).kind, Kind::unsatisfiable);
}

TEST(ByteRange, IgnoresListsAndSyntaxItCannotRead) {
  for (const char* header : {"bytes=0-1,5-6", "items=0-1", "bytes=5-1", "bytes=a-b",
                             "bytes=", "bytes=-", "bytes=1", "bytes=99999999999999999999-"}) {
    EXPECT_EQ(parse_range(header, 100).kind, Kind::ignore) << header;
  }
}

}  // namespace
}  // namespace zc::http
