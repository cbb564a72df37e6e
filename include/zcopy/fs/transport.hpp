// zcopy/fs/transport.hpp: how requests travel between the kernel and the mirror's daemon.
//
// /dev/fuse: a read and a writev per request, one wake-up of whichever worker sleeps in the
// device. FUSE over io_uring (kernel 6.14 and later, when the fuse module's enable_uring
// parameter is on): requests and replies through rings of registered buffers, a queue per CPU;
// INIT, FORGET and INTERRUPT still travel through /dev/fuse. `auto` takes io_uring when the
// parameter is on and says why not otherwise; `uring` is refused with the same reason. The tool
// never changes the kernel parameter itself.
//
//   auto chosen = zc::fs::choose_transport(zc::fs::MountTransport::auto_select);
//   if (!chosen) ...                  // only `uring` fails, with Errc::capability_missing
//   chosen->why_not_uring             // "kernel parameter .../enable_uring is off (...)"
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"

namespace zc::fs {

enum class MountTransport { auto_select, uring, dev };

std::string_view to_string(MountTransport transport) noexcept;
// "auto", "uring" or "dev".
std::optional<MountTransport> mount_transport_from_name(std::string_view text) noexcept;

struct TransportChoice {
  MountTransport used = MountTransport::dev;
  std::string why_not_uring{};  // empty when io_uring is used or was not asked about
};

// The transport a mount asked for `requested` gets, or why it cannot have it (the kernel may
// still refuse the rings at mount time: Mount::transport() is final).
Result<TransportChoice> choose_transport(MountTransport requested);

// One line on the kernel's side of FUSE over io_uring: whether the parameter exists, its value,
// and how to turn it on.
std::string describe_fuse_uring();

}  // namespace zc::fs
