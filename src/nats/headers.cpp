// src/nats/headers.cpp: header values are outside input, parsed strictly.
#include "zcopy/nats/headers.hpp"

#include <charconv>

namespace zc::nats {

std::optional<std::uint64_t> parse_header_number(std::string_view text) noexcept {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

}  // namespace zc::nats
