#include "zcopy/http/server/request_parser.hpp"

#include "http/token_char.hpp"
#include "zcopy/core/ascii.hpp"

namespace zc::http {
namespace {

// field-value characters: VCHAR, obs-text, SP and HTAB; never other controls or DEL.
bool is_field_char(unsigned char c) noexcept {
  return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

std::string_view trim(std::string_view v) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

ParseResult bad(const char* reason) {
  return {ParseStatus::bad_request, 0, reason};
}

bool parse_request_line(std::string_view line, Request& r, const char*& reason) {
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return reason = "request line", false;
  const std::string_view method = line.substr(0, sp1);
  for (const char c : method) {
    if (!is_token_char(static_cast<unsigned char>(c))) return reason = "method", false;
  }
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return reason = "request line", false;
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (const char c : target) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return reason = "request target", false;
  }
  const std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1.") return reason = "version", false;
  if (version[7] != '0' && version[7] != '1') return reason = "version", false;
  r.method.assign(method);
  r.target.assign(target);
  r.version_minor = version[7] - '0';
  return true;
}

// Appends the tokens of a Connection header (a comma list) to the request's flags.
void parse_connection(std::string_view value, Request& r) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view token = trim(value.substr(0, comma));
    if (ascii::equals_ignoring_case(token, "close")) r.connection_close = true;
    if (ascii::equals_ignoring_case(token, "keep-alive")) r.connection_keep_alive = true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

bool parse_length(std::string_view value, std::uint64_t& length) {
  if (value.empty() || value.size() > 18) return false;
  length = 0;
  for (const char c : value) {
    if (c < '0' || c > '9') return false;
    length = length * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

}  // namespace

std::string Request::request_line() const {
  return method + " " + target + (version_minor == 0 ? " HTTP/1.0" : " HTTP/1.1");
}

ParseResult parse_request(std::string_view buffer, std::size_t max_head_bytes, Request& out) {
  // Empty lines before the request line count toward the limit: else a client sending CRLFs
  // forever would fill the connection's buffer without ever being over it.
  std::size_t start = 0;
  while (buffer.substr(start, 2) == "\r\n") start += 2;
  const ParseResult too_large{ParseStatus::too_large, 0,
                              start > max_head_bytes ? "empty lines" : "head size"};

  const std::size_t end = buffer.find("\r\n\r\n", start);
  if (end == std::string_view::npos) {
    if (buffer.size() > max_head_bytes) return too_large;
    // A bare LF or a NUL is fatal whether or not the head is complete; say so early.
    for (std::size_t i = start; i < buffer.size(); ++i) {
      if (buffer[i] == '\0') return bad("NUL in head");
      if (buffer[i] == '\n' && (i == 0 || buffer[i - 1] != '\r')) return bad("bare LF");
    }
    return {};
  }
  const std::size_t head_end = end + 4;
  if (head_end > max_head_bytes) return too_large;

  Request r;
  std::string_view head = buffer.substr(start, end + 2 - start);  // every line ends in CRLF
  bool seen_host = false;
  bool seen_length = false;
  std::uint64_t content_length = 0;
  std::size_t fields = 0;
  bool first = true;
  while (!head.empty()) {
    const std::size_t cr = head.find('\r');
    if (cr == std::string_view::npos || cr + 1 >= head.size() || head[cr + 1] != '\n')
      return bad("bare CR");
    const std::string_view line = head.substr(0, cr);
    head.remove_prefix(cr + 2);
    if (line.find('\n') != std::string_view::npos) return bad("bare LF");
    if (first) {
      const char* reason = "";
      if (!parse_request_line(line, r, reason)) return bad(reason);
      first = false;
      continue;
    }
    if (++fields > kMaxHeaderFields) return {ParseStatus::too_large, 0, "header fields"};
    if (line.front() == ' ' || line.front() == '\t') return bad("obs-fold");
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return bad("header field");
    const std::string_view name = line.substr(0, colon);
    for (const char c : name) {
      if (!is_token_char(static_cast<unsigned char>(c))) return bad("header field name");
    }
    const std::string_view raw_value = line.substr(colon + 1);
    for (const char c : raw_value) {
      if (!is_field_char(static_cast<unsigned char>(c))) return bad("header field value");
    }
    const std::string_view value = trim(raw_value);
    auto is = [&](std::string_view n) { return ascii::equals_ignoring_case(name, n); };
    if (is("host")) {
      if (seen_host) return bad("duplicate Host");
      seen_host = true;
      r.host.assign(value);
    } else if (is("content-length")) {
      std::uint64_t length = 0;
      if (!parse_length(value, length)) return bad("Content-Length");
      if (seen_length && length != content_length) return bad("conflicting Content-Length");
      seen_length = true;
      content_length = length;
    } else if (is("transfer-encoding")) {
      r.has_body = true;
    } else if (is("connection")) {
      parse_connection(value, r);
    } else if (is("range")) {
      if (!r.range.empty()) return bad("duplicate Range");
      r.range.assign(value);
    } else if (is("if-none-match")) {
      if (!r.if_none_match.empty()) r.if_none_match += ", ";
      r.if_none_match.append(value);
    } else if (is("if-modified-since")) {
      r.if_modified_since.assign(value);
    } else if (is("if-range")) {
      r.if_range.assign(value);
    } else if (is("accept")) {
      if (!r.accept.empty()) r.accept += ", ";
      r.accept.append(value);
    }
  }
  if (first) return bad("empty head");
  if (r.version_minor >= 1 && !seen_host) return bad("HTTP/1.1 without Host");
  if (content_length > 0) r.has_body = true;
  out = std::move(r);
  return {ParseStatus::complete, head_end, ""};
}

}  // namespace zc::http
