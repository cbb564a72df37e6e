#include "bench/support/write_all.hpp"

#include <unistd.h>

#include "zcopy/core/syscall.hpp"

namespace zc::bench {

Result<void> write_all(int fd, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    auto n = sys_call({"write", fd}, [&] { return ::write(fd, bytes.data(), bytes.size()); });
    if (!n) return std::unexpected(n.error());
    bytes = bytes.subspan(static_cast<std::size_t>(*n));
  }
  return {};
}

}  // namespace zc::bench
