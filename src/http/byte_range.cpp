#include "zcopy/http/byte_range.hpp"

#include <optional>

#include "zcopy/core/ascii.hpp"

namespace zc::http {
namespace {

// Decimal digits only; nullopt when empty or beyond 10^18 (no file is that large).
std::optional<std::uint64_t> number(std::string_view text) noexcept {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

}  // namespace

RangeRequest parse_range(std::string_view header, std::uint64_t size) noexcept {
  using Kind = RangeRequest::Kind;
  constexpr std::string_view kUnit = "bytes=";
  if (header.size() < kUnit.size() ||
      !ascii::equals_ignoring_case(header.substr(0, kUnit.size()), kUnit))
    return {};
  std::string_view spec = header.substr(kUnit.size());
  while (!spec.empty() && spec.front() == ' ') spec.remove_prefix(1);
  while (!spec.empty() && spec.back() == ' ') spec.remove_suffix(1);
  if (spec.find(',') != std::string_view::npos) return {};
  const std::size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return {};
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);

  if (first_text.empty()) {  // suffix range: the last N bytes
    const auto suffix = number(last_text);
    if (!suffix) return {};
    if (*suffix == 0 || size == 0) return {Kind::unsatisfiable, 0, 0};
    const std::uint64_t n = *suffix < size ? *suffix : size;
    return {Kind::satisfiable, size - n, size - 1};
  }
  const auto first = number(first_text);
  if (!first) return {};
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    const auto given = number(last_text);
    if (!given || *given < *first) return {};
    if (*given < last) last = *given;
  }
  if (*first >= size) return {Kind::unsatisfiable, 0, 0};
  return {Kind::satisfiable, *first, last};
}

}  // namespace zc::http
