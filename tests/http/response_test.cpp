#include "zcopy/http/client/response.hpp"

#include <gtest/gtest.h>

#include "zcopy/http/client/response_chunked.hpp"

namespace zc::http {
namespace {

ResponseHead parse_ok(std::string_view text) {
  auto parsed = parse_response_head(text);
  EXPECT_TRUE(parsed) << parsed.error().message();
  EXPECT_TRUE(parsed && *parsed);
  return parsed && *parsed ? (*parsed)->head : ResponseHead{};
}

std::string parse_error(std::string_view text) {
  auto parsed = parse_response_head(text);
  EXPECT_FALSE(parsed) << "accepted: " << text;
  return parsed ? "" : parsed.error().message();
}

TEST(Response, ParsesStatusHeadersAndLength) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A:  spaced  \r\nLocation: /x\r\n\r\nbody";
  auto parsed = parse_response_head(text);
  ASSERT_TRUE(parsed && *parsed);
  EXPECT_EQ((*parsed)->head_size, text.size() - 4);
  const ResponseHead& head = (*parsed)->head;
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.reason, "OK");
  EXPECT_EQ(head.content_length, 12u);
  EXPECT_EQ(*head.header("x-a"), "spaced");
  EXPECT_EQ(*head.header("LOCATION"), "/x");
  EXPECT_EQ(head.header("missing"), nullptr);
}

TEST(Response, AnIncompleteHeadAsksForMore) {
  auto parsed = parse_response_head("HTTP/1.1 200 OK\r\nContent-Len");
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(*parsed);
}

TEST(Response, AHeadThatNeverEndsIsRefused) {
  const std::string endless = "HTTP/1.1 200 OK\r\nX: " + std::string(kMaxResponseHead, 'a');
  EXPECT_NE(parse_error(endless).find("larger than"), std::string::npos);
}

TEST(Response, ChunkedAndRangeAnswers) {
  EXPECT_TRUE(parse_ok("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").chunked);
  const ResponseHead partial = parse_ok(
      "HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n"
      "Content-Range: bytes 10-19/100\r\n\r\n");
  ASSERT_TRUE(partial.content_range);
  EXPECT_EQ(partial.content_range->first, 10u);
  EXPECT_EQ(partial.content_range->last, 19u);
  EXPECT_EQ(partial.content_range->total, 100u);
  EXPECT_EQ(parse_ok("HTTP/1.1 416 No\r\nContent-Range: bytes */100\r\n\r\n").range_total, 100u);
  EXPECT_TRUE(parse_ok("HTTP/1.0 200 OK\r\n\r\n").connection_close);
}

TEST(Response, AmbiguousFramingIsRefused) {
  EXPECT_NE(parse_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked"
                        "\r\n\r\n")
                .find("both"),
            std::string::npos);
  parse_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  parse_error("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
  parse_error("HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n");
  parse_error("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n");
  parse_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  parse_error("HTTP/1.1 206 OK\r\nContent-Length: 5\r\nContent-Range: bytes 0-9/10\r\n\r\n");
  parse_error("HTTP/1.1 206 OK\r\nContent-Length: 5\r\n\r\n");
}

TEST(Response, MalformedHeadsAreRefused) {
  parse_error("HTTP/2 200 OK\r\n\r\n");
  parse_error("HTTP/1.1 20 OK\r\n\r\n");
  parse_error("HTTP/1.1 999 OK\r\n\r\n");
  parse_error("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n");
  parse_error("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n");
  parse_error("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n");
  parse_error("HTTP/1.1 200 OK\nA: b\r\n\r\n");
  const char with_nul[] = "HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n";
  parse_error(std::string_view(with_nul, sizeof(with_nul) - 1));
}

Result<std::string> decode(std::string_view body, std::size_t step) {
  ChunkedDecoder decoder;
  std::string out;
  const ChunkedDecoder::Sink sink = [&](std::string_view data) -> Result<void> {
    out.append(data);
    return {};
  };
  std::size_t at = 0;
  while (at < body.size() && !decoder.done()) {
    auto used = decoder.feed(body.substr(at, step), sink);
    if (!used) return std::unexpected(used.error());
    at += *used;
  }
  if (!decoder.done()) return fail(Errc::closed, "decode", "unfinished");
  EXPECT_EQ(decoder.decoded_bytes(), out.size());
  return out + "|" + std::string(body.substr(at));
}

TEST(ChunkedResponse, DecodesWhateverWayTheBytesArrive) {
  const std::string body = "5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\nT: x\r\n\r\nNEXT";
  for (std::size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    auto out = decode(body, step);
    ASSERT_TRUE(out) << out.error().message();
    EXPECT_EQ(*out, "hello 0123456789|NEXT") << "step " << step;
  }
}

TEST(ChunkedResponse, MalformedChunksAreRefused) {
  EXPECT_FALSE(decode("x\r\n", 100));
  EXPECT_FALSE(decode("\r\n", 100));
  EXPECT_FALSE(decode("3\r\nabcd\r\n0\r\n\r\n", 100));
  EXPECT_FALSE(decode("3\nabc\r\n0\r\n\r\n", 100));
  EXPECT_FALSE(decode("ffffffffffffffffff\r\n", 100));
  EXPECT_FALSE(decode(std::string(5000, '1'), 100));
}

}  // namespace
}  // namespace zc::http
