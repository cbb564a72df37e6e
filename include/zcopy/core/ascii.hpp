// zcopy/core/ascii.hpp: ASCII text helpers for parsing names, suffixes and protocol tokens.
#pragma once

#include <cctype>
#include <string_view>

namespace zc::ascii {

inline bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace zc::ascii
