#include "zcopy/http/server/request_parser.hpp"

#include <gtest/gtest.h>

namespace zc::http {
namespace {

ParseResult parse(std::string_view text, Request& r, std::size_t limit = 16 * 1024) {
  return parse_request(text, limit, r);
}

ParseStatus status_of(std::string_view text) {
  Request r;
  return parse(text, r).status;
}

TEST(RequestParser, ParsesARequestAndTheFieldsTheServerUses) {
  const std::string text =
      "GET /a/b.txt?x=1 HTTP/1.1\r\nHost: example\r\nRange: bytes=0-9\r\n"
      "If-None-Match: \"a\"\r\nIf-None-Match: \"b\"\r\nAccept: application/json\r\n"
      "X-Other:   padded value  \r\n\r\nGET /next";
  Request r;
  const ParseResult result = parse(text, r);
  ASSERT_EQ(result.status, ParseStatus::complete);
  EXPECT_EQ(result.consumed, text.find("GET /next"));
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/a/b.txt?x=1");
  EXPECT_EQ(r.version_minor, 1);
  EXPECT_EQ(r.host, "example");
  EXPECT_EQ(r.range, "bytes=0-9");
  EXPECT_EQ(r.if_none_match, "\"a\", \"b\"");
  EXPECT_EQ(r.accept, "application/json");
  EXPECT_TRUE(r.keep_alive());
  EXPECT_FALSE(r.has_body);
  EXPECT_EQ(r.request_line(), "GET /a/b.txt?x=1 HTTP/1.1");
}

TEST(RequestParser, WaitsForTheEndOfTheHead) {
  EXPECT_EQ(status_of(""), ParseStatus::incomplete);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\n"), ParseStatus::incomplete);
  EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\n\r"), ParseStatus::incomplete);
}

TEST(RequestParser, KeepAliveFollowsVersionAndConnection) {
  Request r;
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", r).status, ParseStatus::complete);
  EXPECT_FALSE(r.keep_alive());
  ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", r).status,
            ParseStatus::complete);
  EXPECT_TRUE(r.keep_alive());
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", r).status,
            ParseStatus::complete);
  EXPECT_FALSE(r.keep_alive());
}

TEST(RequestParser, MarksRequestsThatCarryABody) {
  Request r;
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", r).status,
            ParseStatus::complete);
  EXPECT_FALSE(r.has_body);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", r).status,
            ParseStatus::complete);
  EXPECT_TRUE(r.has_body);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", r).status,
            ParseStatus::complete);
  EXPECT_TRUE(r.has_body);
}

TEST(RequestParser, RejectsWhatRfc9112Forbids) {
  for (const char* bad : {
           "GET / HTTP/1.1\nHost: a\n\n",                   // bare LF
           "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",  // obs-fold
           "GET / HTTP/1.1\r\nHost : a\r\n\r\n",            // space before colon
           "GET / HTTP/1.1\r\nHo\x01st: a\r\n\r\n",         // control in a name
           "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n",         // DEL in a value
           "GET / HTTP/1.1\r\n\r\n",                        // 1.1 without Host
           "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",  // two Hosts
           "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
           "GET / HTTP/2.0\r\nHost: a\r\n\r\n",     // not HTTP/1.x
           "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",    // double space
           "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",  // space in target
           "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",     // not a token
           "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
       }) {
    EXPECT_EQ(status_of(bad), ParseStatus::bad_request) << bad;
  }
  EXPECT_EQ(status_of(std::string_view("GET /\0 HTTP/1.1\r\n", 18)), ParseStatus::bad_request);
}

TEST(RequestParser, RefusesHeadsOverTheLimitWithoutWaitingForTheirEnd) {
  const std::string big = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(20000, 'x');
  EXPECT_EQ(status_of(big), ParseStatus::too_large);
  Request r;
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nX: 1234567890\r\n\r\n", r, 20).status,
            ParseStatus::too_large);
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 150; ++i) many += "X: 1\r\n";
  EXPECT_EQ(status_of(many + "\r\n"), ParseStatus::too_large);
}

TEST(RequestParser, SkipsEmptyLinesBeforeTheRequestLine) {
  Request r;
  const ParseResult result = parse("\r\n\r\nHEAD / HTTP/1.1\r\nHost: a\r\n\r\n", r);
  ASSERT_EQ(result.status, ParseStatus::complete);
  EXPECT_EQ(r.method, "HEAD");
}

TEST(RequestParser, CountsEmptyLinesBeforeTheRequestLineTowardTheLimit) {
  std::string lines;
  for (int i = 0; i < 9000; ++i) lines += "\r\n";
  EXPECT_EQ(status_of(lines), ParseStatus::too_large);
  EXPECT_EQ(status_of(lines + "\r"), ParseStatus::too_large);
  EXPECT_EQ(status_of(lines + "GET / HTTP/1.1\r\n"), ParseStatus::too_large);
  EXPECT_EQ(status_of(lines + "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), ParseStatus::too_large);
  Request r;
  EXPECT_EQ(parse(lines.substr(0, 100) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", r, 120).status,
            ParseStatus::too_large);
  EXPECT_EQ(parse(lines.substr(0, 10) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", r, 120).status,
            ParseStatus::complete);
}

TEST(RequestParser, AnswersEveryBufferOverTheLimitWithoutWaitingForMore) {
  for (const std::size_t limit : {16U, 17U, 64U}) {
    for (const std::string unit : {"\r\n", "\r\n\r", "GET / HTTP/1.1\r\nX: y\r\n", "G"}) {
      std::string text;
      while (text.size() <= limit) text += unit;
      Request r;
      EXPECT_NE(parse(text, r, limit).status, ParseStatus::incomplete) << limit << " " << text;
    }
  }
}

}  // namespace
}  // namespace zc::http
