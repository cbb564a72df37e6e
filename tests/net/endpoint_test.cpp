#include "zcopy/net/endpoint.hpp"

#include <gtest/gtest.h>

namespace zc::net {
namespace {

TEST(ParseEndpoint, HostAndPort) {
  auto e = parse_endpoint("127.0.0.1:8080", 80);
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 8080);
  EXPECT_EQ(e->str(), "127.0.0.1:8080");
}

TEST(ParseEndpoint, MissingPortTakesTheDefault) {
  auto e = parse_endpoint("localhost", 80);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "localhost");
  EXPECT_EQ(e->port, 80);
}

TEST(ParseEndpoint, BracketedIpv6) {
  auto e = parse_endpoint("[::1]:9000", 80);
  ASSERT_TRUE(e) << e.error().message();
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 9000);
  EXPECT_EQ(e->str(), "[::1]:9000");
  auto bare = parse_endpoint("[::1]", 443);
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->port, 443);
}

TEST(ParseEndpoint, RejectsMalformedInputWithAReason) {
  for (const char* text : {"", ":80", "host:", "host:65536", "host:8x", "[::1", "[::1]80", "::1:80",
                           "[]:80", "host:-1"}) {
    auto e = parse_endpoint(text, 80);
    ASSERT_FALSE(e) << text;
    EXPECT_EQ(e.error().code(), Errc::invalid_argument) << text;
    EXPECT_NE(e.error().message().find(text), std::string::npos) << e.error().message();
  }
}

TEST(Resolve, NumericAddressesNeedNoNetwork) {
  auto v4 = resolve({"127.0.0.1", 1234});
  ASSERT_TRUE(v4) << v4.error().message();
  EXPECT_EQ(v4->front().family(), AF_INET);
  EXPECT_EQ(v4->front().port(), 1234);
  EXPECT_EQ(v4->front().str(), "127.0.0.1:1234");
  auto v6 = resolve({"::1", 80});
  ASSERT_TRUE(v6) << v6.error().message();
  EXPECT_EQ(v6->front().str(), "[::1]:80");
}

TEST(Resolve, UnknownHostIsAClearError) {
  auto r = resolve({"no-such-host.invalid", 80});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("no-such-host.invalid"), std::string::npos);
}

}  // namespace
}  // namespace zc::net
