// zcopy/http/http_date.hpp: the dates HTTP carries (Date, Last-Modified, If-Modified-Since).
//
//   std::string d = zc::http::format_http_date(784111777);   // "Sun, 06 Nov 1994 08:49:37 GMT"
//   std::optional<std::int64_t> t = zc::http::parse_http_date(d);   // 784111777
//
// We always send the IMF-fixdate form; parsing also accepts the two obsolete forms RFC 7231
// section 7.1.1.1 requires recipients to understand (RFC 850 and asctime).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zc::http {

// Seconds since the epoch as an IMF-fixdate, always in GMT.
std::string format_http_date(std::int64_t epoch_seconds);

// Any of the three RFC 7231 forms; nullopt for anything else (a date that is not valid, extra
// characters, a time zone other than GMT).
std::optional<std::int64_t> parse_http_date(std::string_view text);

// The common log format's timestamp, "10/Oct/2000:13:55:36 +0000" (always UTC).
std::string format_log_date(std::int64_t epoch_seconds);

}  // namespace zc::http
