#include "zcopy/xdp/bind_mode.hpp"

#include <array>
#include <utility>

namespace zc::xdp {
namespace {

constexpr std::array kChoices{
    std::pair{ModeChoice::automatic, std::string_view("auto")},
    std::pair{ModeChoice::zero_copy, std::string_view("zero-copy")},
    std::pair{ModeChoice::native_copy, std::string_view("native")},
    std::pair{ModeChoice::skb_copy, std::string_view("skb")},
};

}  // namespace

std::string_view to_string(BindMode mode) noexcept {
  switch (mode) {
    case BindMode::zero_copy:
      return "zero-copy";
    case BindMode::native_copy:
      return "native copy";
    case BindMode::skb_copy:
      return "skb copy";
  }
  return "unknown";
}

std::string_view to_string(ModeChoice choice) noexcept {
  for (const auto& [value, name] : kChoices) {
    if (value == choice) return name;
  }
  return "unknown";
}

std::optional<ModeChoice> parse_mode_choice(std::string_view text) noexcept {
  for (const auto& [value, name] : kChoices) {
    if (name == text) return value;
  }
  return std::nullopt;
}

}  // namespace zc::xdp
