#include "bench/support/json_fields.hpp"

#include <cstdlib>

#include "zcopy/core/json_record.hpp"

namespace zc::bench {
namespace {

// Where the value of `key` starts, or npos.
std::size_t value_at(std::string_view record, std::string_view key) {
  const std::string open = json_quote(key) + ":";
  const std::size_t at = record.find(open);
  return at == std::string_view::npos ? at : at + open.size();
}

}  // namespace

std::optional<double> number_field(std::string_view record, std::string_view key) {
  const std::size_t at = value_at(record, key);
  if (at == std::string_view::npos) return std::nullopt;
  const std::string text(record.substr(at, 40));
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str()) return std::nullopt;
  return value;
}

std::optional<std::string> string_field(std::string_view record, std::string_view key) {
  std::size_t at = value_at(record, key);
  if (at == std::string_view::npos || at >= record.size() || record[at] != '"') return std::nullopt;
  std::string value;
  for (++at; at < record.size(); ++at) {
    const char c = record[at];
    if (c == '"') return value;
    if (c == '\\' && at + 1 < record.size()) {
      const char e = record[++at];
      value += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
    } else {
      value += c;
    }
  }
  return std::nullopt;
}

}  // namespace zc::bench
