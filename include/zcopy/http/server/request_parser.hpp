// zcopy/http/server/request_parser.hpp: a small, strict HTTP/1.x request-head parser.
//
//   zc::http::Request request;
//   zc::http::ParseResult r = zc::http::parse_request(buffer, 16 * 1024, request);
//   if (r.status == zc::http::ParseStatus::complete) buffer.erase(0, r.consumed);
//
// Why our own parser and not Boost.Beast: the server accepts only GET and HEAD without a body, so
// it needs the request line and a handful of header fields. Beast's parser is general (bodies,
// chunked coding, trailers), reports errors through exceptions or error_code plumbing, and pulls a
// large header-only dependency into every translation unit that includes it. This parser is one
// pass over one buffer, allocates only the few fields the server reads, rejects anything RFC 9112
// does not allow (bare LF, obs-fold, whitespace before the colon, control characters, conflicting
// Content-Length, a missing Host in HTTP/1.1), and is small enough for libFuzzer to cover fully
// (fuzz/http_request_fuzzer.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace zc::http {

struct Request {
  std::string method;     // case-sensitive token ("GET")
  std::string target;     // the raw request-target
  int version_minor = 1;  // HTTP/1.<minor>; only 0 and 1 are accepted
  std::string host;
  std::string range;
  std::string if_none_match;
  std::string if_modified_since;
  std::string if_range;
  std::string accept;
  bool connection_close = false;
  bool connection_keep_alive = false;
  // Content-Length > 0 or any Transfer-Encoding: the request announces a body.
  bool has_body = false;

  // HTTP/1.1 persists unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
  bool keep_alive() const noexcept {
    return version_minor >= 1 ? !connection_close : connection_keep_alive && !connection_close;
  }
  // "GET /path HTTP/1.1", as the access log shows it.
  std::string request_line() const;
};

enum class ParseStatus : std::uint8_t {
  complete,     // a whole head was parsed; `consumed` bytes belong to it
  incomplete,   // more bytes are needed
  bad_request,  // malformed: answer 400 and close
  too_large,    // the head exceeds the limit or has too many fields: answer 431 and close
};

struct ParseResult {
  ParseStatus status = ParseStatus::incomplete;
  std::size_t consumed = 0;
  // For bad_request and too_large, a short reason for the error log ("obs-fold").
  const char* reason = "";
};

inline constexpr std::size_t kMaxHeaderFields = 100;

// Parses the head at the start of `buffer`. Leading empty lines are skipped (RFC 9112 2.2) but
// count toward `max_head_bytes`, so `buffer` larger than the limit is never `incomplete`.
// `request` is overwritten only on `complete`.
ParseResult parse_request(std::string_view buffer, std::size_t max_head_bytes, Request& request);

}  // namespace zc::http
