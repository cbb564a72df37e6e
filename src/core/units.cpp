#include "zcopy/core/units.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

#include "zcopy/core/ascii.hpp"

namespace zc {
namespace {

std::uint64_t multiplier_for(std::string_view suffix, bool& known) {
  struct Unit {
    std::string_view letter;
    std::uint64_t factor;
  };
  static constexpr std::array<Unit, 5> kUnits{
      {{"", 1}, {"k", kKiB}, {"m", kMiB}, {"g", kGiB}, {"t", kGiB * 1024}}};
  known = true;
  for (const Unit& unit : kUnits) {
    if (ascii::equals_ignoring_case(suffix, unit.letter)) return unit.factor;
    if (unit.letter.empty()) {
      if (ascii::equals_ignoring_case(suffix, "b")) return 1;
      continue;
    }
    std::string with_b = std::string(unit.letter) + "b";
    std::string with_ib = std::string(unit.letter) + "ib";
    if (ascii::equals_ignoring_case(suffix, with_b) || ascii::equals_ignoring_case(suffix, with_ib))
      return unit.factor;
  }
  known = false;
  return 0;
}

}  // namespace

Result<std::uint64_t> parse_size(std::string_view text) {
  const std::string quoted = "size '" + std::string(text) + "'";
  std::size_t pos = 0;
  std::uint64_t whole = 0;
  bool any_digit = false;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    const auto digit = static_cast<std::uint64_t>(text[pos] - '0');
    if (whole > (std::numeric_limits<std::uint64_t>::max() - digit) / 10)
      return fail(Errc::invalid_argument, quoted, "does not fit in 64 bits");
    whole = whole * 10 + digit;
    any_digit = true;
    ++pos;
  }
  // An optional fraction, for "1.5G"; at most 9 digits are kept, which is exact enough for bytes.
  std::uint64_t fraction = 0;
  std::uint64_t fraction_scale = 1;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      if (fraction_scale < 1'000'000'000) {
        fraction = fraction * 10 + static_cast<std::uint64_t>(text[pos] - '0');
        fraction_scale *= 10;
      }
      any_digit = true;
      ++pos;
    }
  }
  if (!any_digit)
    return fail(Errc::invalid_argument, quoted, "expected a number such as 4096, 64K, 1M or 2G");
  bool known = false;
  const std::uint64_t factor = multiplier_for(text.substr(pos), known);
  if (!known) return fail(Errc::invalid_argument, quoted, "unknown suffix (use K, M, G or T)");
  if (whole > std::numeric_limits<std::uint64_t>::max() / factor)
    return fail(Errc::invalid_argument, quoted, "does not fit in 64 bits");
  const std::uint64_t from_whole = whole * factor;
  // factor <= 2^40 and fraction < 10^9 < 2^30, so the product cannot overflow.
  const std::uint64_t from_fraction = fraction * factor / fraction_scale;
  if (from_whole > std::numeric_limits<std::uint64_t>::max() - from_fraction)
    return fail(Errc::invalid_argument, quoted, "does not fit in 64 bits");
  return from_whole + from_fraction;
}

std::string format_bytes(std::uint64_t bytes) {
  static constexpr std::array<const char*, 5> kNames{"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < kKiB) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024.0;
  std::size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < kNames.size()) {
    value /= 1024.0;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f %s", value, kNames[unit]);
  return buffer;
}

std::string format_nanos(double nanos) {
  char buffer[32];
  if (nanos < 1e3) {
    std::snprintf(buffer, sizeof buffer, "%.0f ns", nanos);
  } else if (nanos < 1e6) {
    std::snprintf(buffer, sizeof buffer, "%.1f us", nanos / 1e3);
  } else if (nanos < 1e9) {
    std::snprintf(buffer, sizeof buffer, "%.2f ms", nanos / 1e6);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.2f s", nanos / 1e9);
  }
  return buffer;
}

std::string format_rate(double bytes_per_second) {
  char buffer[32];
  if (bytes_per_second >= 1e9) {
    std::snprintf(buffer, sizeof buffer, "%.2f GB/s", bytes_per_second / 1e9);
  } else if (bytes_per_second >= 1e6) {
    std::snprintf(buffer, sizeof buffer, "%.1f MB/s", bytes_per_second / 1e6);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f kB/s", bytes_per_second / 1e3);
  }
  return buffer;
}

}  // namespace zc
