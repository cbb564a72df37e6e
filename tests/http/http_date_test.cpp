#include "zcopy/http/http_date.hpp"

#include <gtest/gtest.h>

namespace zc::http {
namespace {

TEST(HttpDate, FormatsTheRfcExample) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST(HttpDate, ParsesAllThreeFormsOfTheSameInstant) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
}

TEST(HttpDate, RoundTripsFormattedDates) {
  for (std::int64_t t : {0LL, 951782400LL, 1700000000LL, 4102444799LL}) {
    EXPECT_EQ(parse_http_date(format_http_date(t)), t) << t;
  }
}

TEST(HttpDate, RejectsMalformedOrInconsistentDates) {
  EXPECT_FALSE(parse_http_date(""));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));    // only GMT
  EXPECT_FALSE(parse_http_date("Mon, 06 Nov 1994 08:49:37 GMT"));    // wrong weekday
  EXPECT_FALSE(parse_http_date("Tue, 31 Feb 2023 08:49:37 GMT"));    // no such day
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT x"));  // trailing bytes
  EXPECT_FALSE(parse_http_date("Sun, 6 Nov 1994 08:49:37 GMT"));     // two-digit day
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
}

TEST(HttpDate, FormatsTheCommonLogTimestamp) {
  EXPECT_EQ(format_log_date(784111777), "06/Nov/1994:08:49:37 +0000");
}

}  // namespace
}  // namespace zc::http
