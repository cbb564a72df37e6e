// libFuzzer target: the request-head parser, then the target resolver and the range parser on
// whatever the parser accepted. Beyond not crashing, it checks the parser's promises: input over
// the limit is never incomplete, a complete parse consumes a prefix of the input that ends in
// CRLF CRLF and fits the limit, and a resolved path never climbs.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "zcopy/http/byte_range.hpp"
#include "zcopy/http/http_date.hpp"
#include "zcopy/http/server/request_parser.hpp"
#include "zcopy/http/url_path.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  zc::http::Request request;
  constexpr std::size_t kLimit = 4096;
  const zc::http::ParseResult result = zc::http::parse_request(input, kLimit, request);
  if (result.status == zc::http::ParseStatus::incomplete && size > kLimit) std::abort();
  if (result.status != zc::http::ParseStatus::complete) return 0;
  if (result.consumed > size || result.consumed > kLimit || result.consumed < 4 ||
      input.substr(result.consumed - 4, 4) != "\r\n\r\n")
    std::abort();
  if (auto path = zc::http::resolve_target(request.target)) {
    const std::string& rel = path->relative;
    if (rel.empty() || rel.front() == '/' || rel == ".." || rel.rfind("../", 0) == 0 ||
        rel.find("/../") != std::string::npos || rel.find('\0') != std::string::npos ||
        (rel.size() >= 3 && rel.substr(rel.size() - 3) == "/.."))
      std::abort();
  }
  const zc::http::RangeRequest range = zc::http::parse_range(request.range, 1000);
  if (range.kind == zc::http::RangeRequest::Kind::satisfiable &&
      (range.first > range.last || range.last >= 1000))
    std::abort();
  (void)zc::http::parse_http_date(request.if_modified_since);
  return 0;
}
