// Channel samples sent zero-copy (see channel_bridge.hpp).
#include "zcopy/net/channel_bridge.hpp"

#include <memory>
#include <utility>

namespace zc::net {

Result<std::uint64_t> send_sample(ZeroCopySender& sender, Sample sample) {
  // Shared, because the release function must be copyable; it is the only owner in practice.
  auto held = std::make_shared<Sample>(std::move(sample));
  const std::span<const std::byte> bytes = held->bytes();
  return sender.send(bytes, [held] { held->reset(); });
}

}  // namespace zc::net
