// zcopy/http/client/url.hpp: the http:// URLs `zcopy get` fetches, parsed strictly.
//
//   zc::Result<zc::http::Url> u = zc::http::parse_url("http://[::1]:8080/data/a%20b.bin");
//   u->host == "::1"; u->port == 8080; u->target == "/data/a%20b.bin";
//   zc::Result<zc::http::Url> next = zc::http::resolve_location(*u, "../other");  // a redirect
//
// Only plain HTTP is spoken: an https:// URL is refused with an error saying TLS is not supported.
// The request target keeps its percent-encoding (it is sent as is); characters that may not appear
// in a request line are encoded, and a bad escape or a control character is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"

namespace zc::http {

struct Url {
  std::string host;  // without brackets, even for IPv6
  std::uint16_t port = 80;
  std::string target = "/";  // path and query, percent-encoded, always starting with '/'

  // "host:port" for the Host header (IPv6 bracketed, ":80" omitted).
  std::string authority() const;
  // The whole URL again: "http://host:port/target".
  std::string str() const;
  // The last path segment, percent-decoded ("" for a directory URL ending in '/').
  std::string file_name() const;
};

Result<Url> parse_url(std::string_view text);

// Where a redirect's Location leads from `base`: an absolute http:// URL, an absolute path
// ("/x"), or a path relative to base's directory ("x", "../x").
Result<Url> resolve_location(const Url& base, std::string_view location);

// Percent-decodes `text`; fails on a malformed escape. "%2F" decodes to '/', so callers that
// build paths from the result must check it.
Result<std::string> percent_decode(std::string_view text);
// Percent-encodes everything but RFC 3986 unreserved characters (for one path segment).
std::string percent_encode_segment(std::string_view text);

}  // namespace zc::http
