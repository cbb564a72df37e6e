#include "zcopy/core/json_record.hpp"

#include <cmath>
#include <cstdio>

namespace zc {

std::string json_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

void JsonRecord::add_key(std::string_view key) {
  if (!body_.empty()) body_ += ',';
  body_ += json_quote(key);
  body_ += ':';
}

JsonRecord& JsonRecord::add(std::string_view key, std::string_view value) {
  add_key(key);
  body_ += json_quote(value);
  return *this;
}

JsonRecord& JsonRecord::add(std::string_view key, std::uint64_t value) {
  add_key(key);
  body_ += std::to_string(value);
  return *this;
}

JsonRecord& JsonRecord::add(std::string_view key, std::int64_t value) {
  add_key(key);
  body_ += std::to_string(value);
  return *this;
}

JsonRecord& JsonRecord::add(std::string_view key, double value) {
  add_key(key);
  if (!std::isfinite(value)) {
    body_ += "null";
    return *this;
  }
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  body_ += buffer;
  return *this;
}

JsonRecord& JsonRecord::add(std::string_view key, bool value) {
  add_key(key);
  body_ += value ? "true" : "false";
  return *this;
}

JsonRecord bench_record(std::string_view bench, std::string_view method, std::uint64_t size_bytes) {
  JsonRecord record;
  record.add("bench", bench).add("method", method).add("size_bytes", size_bytes);
  return record;
}

}  // namespace zc
