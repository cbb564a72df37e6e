// zcopy/http/client/response.hpp: a strict parser for the head of an HTTP/1.1 response.
//
// The client reads from the socket into a small buffer until the head is complete, parses it
// here, and hands the rest of the connection to the body mover (splice, or the chunked decoder).
//
//   auto parsed = zc::http::parse_response_head(buffer);
//   if (!parsed) fail(parsed.error());           // malformed: never guess
//   else if (!*parsed) read_more();              // incomplete
//   else use((*parsed)->head, (*parsed)->head_size);
//
// Strict means: CRLF line ends only, no obsolete line folding, header names are tokens, a single
// Content-Length (repeats must agree), never both Content-Length and Transfer-Encoding, and no
// transfer coding but "chunked". Anything else is an error that names what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc::http {

// The most a response head may take before we give up on the server.
inline constexpr std::size_t kMaxResponseHead = 64 * 1024;

// "Content-Range: bytes first-last/total" of a 206 (total absent for "/*").
struct ContentRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::optional<std::uint64_t> total;
};

struct ResponseHead {
  int version_minor = 1;  // HTTP/1.<minor>
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, values trimmed

  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  std::optional<ContentRange> content_range;  // from a 206
  std::optional<std::uint64_t> range_total;   // "bytes */N" of a 416
  bool connection_close = false;

  // The first header named `name` (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
  // Whether the status carries no body at all (1xx, 204, 304).
  bool bodiless() const { return status < 200 || status == 204 || status == 304; }
};

struct ParsedHead {
  ResponseHead head;
  std::size_t head_size = 0;  // bytes of `data` the head took, blank line included
};

// Parses a response head from the start of `data`. std::nullopt: incomplete, read more. An error:
// malformed, or larger than `max_head`.
Result<std::optional<ParsedHead>> parse_response_head(std::string_view data,
                                                      std::size_t max_head = kMaxResponseHead);

// Parses a Content-Range value ("bytes 0-99/1000" or "bytes */1000" for a 416).
Result<ContentRange> parse_content_range(std::string_view value);

}  // namespace zc::http
