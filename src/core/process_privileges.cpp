#include "zcopy/core/process_privileges.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "zcopy/core/syscall.hpp"

namespace zc {

Result<bool> has_effective_capability(int capability) {
  // Version 3 of the interface holds 64 capabilities in two 32-bit words.
  constexpr int kCapabilityBits = 32 * _LINUX_CAPABILITY_U32S_3;
  if (capability < 0 || capability >= kCapabilityBits) {
    return fail(Errc::invalid_argument, "has_effective_capability",
                "capability " + std::to_string(capability) + " is not in 0.." +
                    std::to_string(kCapabilityBits - 1));
  }
  // glibc has no capget wrapper; libcap would be a dependency for one system call.
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  auto rc = sys_call("capget", [&] { return ::syscall(SYS_capget, &header, data); });
  if (!rc) return std::unexpected(rc.error());
  const auto bit = static_cast<unsigned>(capability);
  return (data[bit / 32].effective & (1U << (bit % 32))) != 0;
}

}  // namespace zc
