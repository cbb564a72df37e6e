// The request transport of a mount: the kernel's offer, read from sysfs.
#include "zcopy/fs/transport.hpp"

#include <fstream>

namespace zc::fs {
namespace {

constexpr const char* kParameter = "/sys/module/fuse/parameters/enable_uring";

// The parameter's value ("Y" or "N"), or nothing when the kernel has no such parameter.
std::optional<std::string> uring_parameter() {
  std::ifstream in(kParameter);
  std::string value;
  if (!in || !std::getline(in, value)) return std::nullopt;
  return value;
}

bool parameter_on(const std::optional<std::string>& value) {
  return value && (*value == "Y" || *value == "1");
}

}  // namespace

std::string_view to_string(MountTransport transport) noexcept {
  switch (transport) {
    case MountTransport::auto_select:
      return "auto";
    case MountTransport::uring:
      return "uring";
    case MountTransport::dev:
      return "dev";
  }
  return "?";
}

std::optional<MountTransport> mount_transport_from_name(std::string_view text) noexcept {
  for (MountTransport t :
       {MountTransport::auto_select, MountTransport::uring, MountTransport::dev}) {
    if (text == to_string(t)) return t;
  }
  return std::nullopt;
}

std::string describe_fuse_uring() {
  const auto value = uring_parameter();
  if (!value) {
    return std::string("the kernel offers no FUSE over io_uring (") + kParameter +
           " is absent: kernel before 6.14 or built without CONFIG_FUSE_IO_URING)";
  }
  if (parameter_on(value)) return std::string("kernel parameter ") + kParameter + " is on";
  return std::string("kernel parameter ") + kParameter + " is off (as root: echo 1 > " +
         kParameter + ")";
}

Result<TransportChoice> choose_transport(MountTransport requested) {
  if (requested == MountTransport::dev) return TransportChoice{};
  if (parameter_on(uring_parameter())) return TransportChoice{.used = MountTransport::uring};
  const std::string reason = describe_fuse_uring();
  if (requested == MountTransport::uring) {
    return fail(Errc::capability_missing, "mount --transport uring", reason);
  }
  return TransportChoice{.used = MountTransport::dev, .why_not_uring = reason};
}

}  // namespace zc::fs
