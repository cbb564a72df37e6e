// zcopy/http/client/url.hpp: the http:// and https:// URLs `zcopy get` fetches, parsed strictly.
//
//   zc::Result<zc::http::Url> u = zc::http::parse_url("http://[::1]:8080/data/a%20b.bin");
//   u->host == "::1"; u->port == 8080; u->target == "/data/a%20b.bin";
//   zc::Result<zc::http::Url> next = zc::http::resolve_location(*u, "../other");  // a redirect
//
// An https:// URL is fetched over TLS (port 443 unless given); any other scheme is refused.
// The request target keeps its percent-encoding (it is sent as is); characters that may not appear
// in a request line are encoded, and a bad escape or a control character is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"

namespace zc::http {

struct Url {
  bool tls = false;  // https://
  std::string host;  // without brackets, even for IPv6
  std::uint16_t port = 80;
  std::string target = "/";  // path and query, percent-encoded, always starting with '/'

  std::uint16_t default_port() const noexcept { return tls ? 443 : 80; }
  // "host:port" for the Host header (IPv6 bracketed, the scheme's default port omitted).
  std::string authority() const;
  // The whole URL again: "http://host:port/target" or "https://...".
  std::string str() const;
  // The last path segment, percent-decoded ("" for a directory URL ending in '/').
  std::string file_name() const;
};

Result<Url> parse_url(std::string_view text);

// Where a redirect's Location leads from `base`: an absolute http:// or https:// URL, an absolute
// path
// ("/x"), or a path relative to base's directory ("x", "../x").
Result<Url> resolve_location(const Url& base, std::string_view location);

// Percent-decodes `text`; fails on a malformed escape. "%2F" decodes to '/', so callers that
// build paths from the result must check it.
Result<std::string> percent_decode(std::string_view text);
// Percent-encodes everything but RFC 3986 unreserved characters (for one path segment).
std::string percent_encode_segment(std::string_view text);

}  // namespace zc::http
