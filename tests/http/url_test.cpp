#include "zcopy/http/client/url.hpp"

#include <gtest/gtest.h>

namespace zc::http {
namespace {

TEST(Url, ParsesHostPortAndPath) {
  auto url = parse_url("http://example.org:8080/data/a.bin?x=1#frag");
  ASSERT_TRUE(url) << url.error().message();
  EXPECT_EQ(url->host, "example.org");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/data/a.bin?x=1");
  EXPECT_EQ(url->authority(), "example.org:8080");
  EXPECT_EQ(url->file_name(), "a.bin");
}

TEST(Url, DefaultsToPort80AndRootPath) {
  auto url = parse_url("HTTP://127.0.0.1");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->target, "/");
  EXPECT_EQ(url->authority(), "127.0.0.1");
}

TEST(Url, BracketedIpv6Host) {
  auto url = parse_url("http://[::1]:9000/x");
  ASSERT_TRUE(url) << url.error().message();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->str(), "http://[::1]:9000/x");
}

TEST(Url, HttpsUrlsSpeakTlsOnPort443UnlessGiven) {
  auto url = parse_url("HTTPS://example.org/a");
  ASSERT_TRUE(url) << url.error().message();
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->authority(), "example.org");
  EXPECT_EQ(url->str(), "https://example.org/a");
  auto other = parse_url("https://example.org:80/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->authority(), "example.org:80");
  EXPECT_EQ(other->str(), "https://example.org:80/");
}

TEST(Url, OtherSchemesAndMissingHostsAreRefused) {
  EXPECT_FALSE(parse_url("ftp://example.org/"));
  EXPECT_FALSE(parse_url("example.org/a"));
  EXPECT_FALSE(parse_url("http:///a"));
  EXPECT_FALSE(parse_url("http://user@host/a"));
  EXPECT_FALSE(parse_url("http://host:99999/a"));
}

TEST(Url, EncodesSpacesKeepsEscapesAndRefusesBadOnes) {
  auto url = parse_url("http://h/a b/%41%2f");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->target, "/a%20b/%41%2f");
  EXPECT_FALSE(parse_url("http://h/%zz"));
  EXPECT_FALSE(parse_url("http://h/%4"));
  EXPECT_FALSE(parse_url(std::string("http://h/a\x01")));
}

TEST(Url, DotSegmentsCannotClimbAboveTheRoot) {
  auto url = parse_url("http://h/a/../../../etc/passwd");
  ASSERT_TRUE(url);
  EXPECT_EQ(url->target, "/etc/passwd");
}

TEST(Url, FileNameIsDecodedAndEmptyForADirectory) {
  EXPECT_EQ(parse_url("http://h/dir/my%20file.txt")->file_name(), "my file.txt");
  EXPECT_EQ(parse_url("http://h/dir/")->file_name(), "");
  // A decoded '/' stays visible to the caller, who must refuse it as a file name.
  EXPECT_EQ(parse_url("http://h/a%2Fb")->file_name(), "a/b");
}

TEST(Url, ResolvesRedirectLocations) {
  const Url base = *parse_url("http://h:81/dir/file?q");
  EXPECT_EQ(resolve_location(base, "other")->str(), "http://h:81/dir/other");
  EXPECT_EQ(resolve_location(base, "../up")->str(), "http://h:81/up");
  EXPECT_EQ(resolve_location(base, "/abs")->str(), "http://h:81/abs");
  EXPECT_EQ(resolve_location(base, "http://x/y")->str(), "http://x/y");
  EXPECT_EQ(resolve_location(base, "//x:82/y")->str(), "http://x:82/y");
  EXPECT_EQ(resolve_location(base, "https://x/y")->str(), "https://x/y");
  const Url secure = *parse_url("https://h/dir/file");
  EXPECT_EQ(resolve_location(secure, "//x/y")->str(), "https://x/y");
  EXPECT_EQ(resolve_location(secure, "other")->str(), "https://h/dir/other");
  EXPECT_EQ(resolve_location(secure, "http://x/y")->str(), "http://x/y");
  EXPECT_FALSE(resolve_location(base, ""));
}

TEST(Url, PercentCodingRoundTrips) {
  const std::string name = "a b/c%d..\xc3\xa9";
  EXPECT_EQ(percent_encode_segment(name), "a%20b%2Fc%25d..%C3%A9");
  EXPECT_EQ(*percent_decode(percent_encode_segment(name)), name);
  EXPECT_FALSE(percent_decode("%"));
  EXPECT_FALSE(percent_decode("%g0"));
}

}  // namespace
}  // namespace zc::http
