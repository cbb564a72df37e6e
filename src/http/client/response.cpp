#include "zcopy/http/client/response.hpp"

#include <charconv>

#include "http/token_char.hpp"
#include "zcopy/core/ascii.hpp"

namespace zc::http {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::unexpected<Error> malformed(std::string detail) {
  return fail(Errc::corrupt, "parse HTTP response", std::move(detail));
}

// A decimal number of at most 19 digits (fits in 63 bits), nothing else.
std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

Result<void> parse_status_line(std::string_view line, ResponseHead& head) {
  // "HTTP/1.1 200 OK": version, one space, three digits, then a space and a reason (maybe empty).
  if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ') {
    return malformed("bad status line '" + std::string(line.substr(0, 64)) + "'");
  }
  if (line[7] != '0' && line[7] != '1') return malformed("unsupported HTTP version");
  head.version_minor = line[7] - '0';
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return malformed("bad status code");
  }
  head.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (head.status < 100 || head.status > 599) return malformed("status code out of range");
  if (line.size() > 12) {
    if (line[12] != ' ') return malformed("bad status line");
    head.reason = std::string(line.substr(13));
  }
  for (char c : head.reason) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) return malformed("control byte in reason");
  }
  return {};
}

Result<void> add_header(std::string_view line, ResponseHead& head) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return malformed("header line without a name: '" + std::string(line.substr(0, 64)) + "'");
  }
  const std::string_view name = line.substr(0, colon);
  for (char c : name) {
    if (!is_token_char(static_cast<unsigned char>(c)))
      return malformed("bad header name '" + std::string(name) + "'");
  }
  const std::string_view value = trim(line.substr(colon + 1));
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\t') || byte == 0x7f) {
      return malformed("control byte in header '" + std::string(name) + "'");
    }
  }
  head.headers.emplace_back(std::string(name), std::string(value));
  return {};
}

Result<void> interpret_headers(ResponseHead& head) {
  bool saw_transfer_encoding = false;
  for (const auto& [name, value] : head.headers) {
    if (ascii::equals_ignoring_case(name, "Content-Length")) {
      auto length = parse_decimal(value);
      if (!length) return malformed("bad Content-Length '" + value + "'");
      if (head.content_length && *head.content_length != *length) {
        return malformed("conflicting Content-Length headers");
      }
      head.content_length = *length;
    } else if (ascii::equals_ignoring_case(name, "Transfer-Encoding")) {
      if (saw_transfer_encoding || !ascii::equals_ignoring_case(value, "chunked")) {
        return malformed("unsupported Transfer-Encoding '" + value + "' (only chunked)");
      }
      saw_transfer_encoding = true;
      head.chunked = true;
    } else if (ascii::equals_ignoring_case(name, "Connection")) {
      if (ascii::equals_ignoring_case(value, "close")) head.connection_close = true;
    } else if (ascii::equals_ignoring_case(name, "Content-Range")) {
      auto range = parse_content_range(value);
      if (!range) return std::unexpected(range.error());
      if (head.status == 416) {
        head.range_total = range->total;
      } else {
        head.content_range = *range;
      }
    }
  }
  if (head.chunked && head.content_length) {
    // Both framings at once is how responses get smuggled; refuse rather than pick one.
    return malformed("both Content-Length and Transfer-Encoding");
  }
  if (head.status == 206 && !head.content_range) return malformed("206 without Content-Range");
  if (head.content_range && head.content_length &&
      *head.content_length != head.content_range->last - head.content_range->first + 1) {
    return malformed("Content-Length does not match Content-Range");
  }
  if (head.version_minor == 0) head.connection_close = true;
  return {};
}

}  // namespace

const std::string* ResponseHead::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (ascii::equals_ignoring_case(key, name)) return &value;
  }
  return nullptr;
}

Result<ContentRange> parse_content_range(std::string_view value) {
  if (!value.starts_with("bytes "))
    return malformed("bad Content-Range '" + std::string(value) + "'");
  value.remove_prefix(6);
  const std::size_t slash = value.find('/');
  if (slash == std::string_view::npos) return malformed("Content-Range without '/'");
  const std::string_view span = value.substr(0, slash);
  const std::string_view total_text = value.substr(slash + 1);
  ContentRange range;
  if (total_text != "*") {
    auto total = parse_decimal(total_text);
    if (!total) return malformed("bad Content-Range total");
    range.total = *total;
  }
  if (span == "*") {
    if (!range.total) return malformed("Content-Range '*/*'");
    return range;
  }
  const std::size_t dash = span.find('-');
  if (dash == std::string_view::npos) return malformed("Content-Range without '-'");
  auto first = parse_decimal(span.substr(0, dash));
  auto last = parse_decimal(span.substr(dash + 1));
  if (!first || !last || *last < *first) return malformed("bad Content-Range span");
  if (range.total && *last >= *range.total) return malformed("Content-Range beyond its total");
  range.first = *first;
  range.last = *last;
  return range;
}

Result<std::optional<ParsedHead>> parse_response_head(std::string_view data, std::size_t max_head) {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (data.size() > max_head) {
      return malformed("response head larger than " + std::to_string(max_head) + " bytes");
    }
    return std::optional<ParsedHead>{};
  }
  if (end + 4 > max_head) {
    return malformed("response head larger than " + std::to_string(max_head) + " bytes");
  }
  ParsedHead parsed;
  parsed.head_size = end + 4;
  std::string_view block = data.substr(0, end + 2);  // every line keeps its CRLF
  bool first = true;
  while (!block.empty()) {
    const std::size_t eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos) {
      return malformed("bare CR or LF in head");
    }
    if (first) {
      if (auto r = parse_status_line(line, parsed.head); !r) return std::unexpected(r.error());
      first = false;
      continue;
    }
    if (line.empty()) return malformed("empty line inside head");
    if (line.front() == ' ' || line.front() == '\t') {
      return malformed("obsolete line folding in header");
    }
    if (auto r = add_header(line, parsed.head); !r) return std::unexpected(r.error());
  }
  if (auto r = interpret_headers(parsed.head); !r) return std::unexpected(r.error());
  return std::optional<ParsedHead>(std::move(parsed));
}

}  // namespace zc::http
