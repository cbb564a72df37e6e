// bench/support/write_all.hpp: every byte of a buffer written to a descriptor, through short
// writes (pipes, sockets) and EINTR.
#pragma once

#include <cstddef>
#include <span>

#include "zcopy/core/error.hpp"

namespace zc::bench {

Result<void> write_all(int fd, std::span<const std::byte> bytes);

}  // namespace zc::bench
