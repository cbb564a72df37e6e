// zcopy/http/byte_range.hpp: the one byte range of a Range header, resolved against a file size.
//
//   zc::http::RangeRequest r = zc::http::parse_range("bytes=100-", 1000);
//   // r.kind == satisfiable, r.first == 100, r.last == 999
//
// Only single ranges are served (206); a list of ranges or a header we cannot read is ignored and
// the whole file is sent (200), which RFC 9110 14.2 allows.
#pragma once

#include <cstdint>
#include <string_view>

namespace zc::http {

struct RangeRequest {
  enum class Kind : std::uint8_t {
    ignore,         // no usable range: send the whole representation
    satisfiable,    // send [first, last] with 206
    unsatisfiable,  // 416 with "Content-Range: bytes */size"
  };
  Kind kind = Kind::ignore;
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t length() const noexcept { return last - first + 1; }
};

RangeRequest parse_range(std::string_view header, std::uint64_t size) noexcept;

}  // namespace zc::http
