// Channel names and the socket address they map to.
#include "zcopy/channel/channel_options.hpp"

namespace zc {

bool valid_channel_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 80) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string channel_address(std::string_view name) {
  return "@zcopy/channel/" + std::string(name);
}

}  // namespace zc
