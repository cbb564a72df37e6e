// The worker threads' capability set, and how the tool describes it.
#include "worker_privileges.hpp"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <utility>

#include "zcopy/fs/mount.hpp"

namespace zc::fs {
namespace {

constexpr std::array<std::pair<int, const char*>, 10> kKept{{
    {CAP_CHOWN, "CAP_CHOWN"},
    {CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE"},
    {CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH"},
    {CAP_FOWNER, "CAP_FOWNER"},
    {CAP_FSETID, "CAP_FSETID"},
    {CAP_MKNOD, "CAP_MKNOD"},
    {CAP_SETUID, "CAP_SETUID"},
    {CAP_SETGID, "CAP_SETGID"},
    {CAP_SETFCAP, "CAP_SETFCAP"},
    {CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
}};

}  // namespace

std::uint64_t worker_capabilities() noexcept {
  std::uint64_t mask = 0;
  for (const auto& [number, name] : kKept) mask |= std::uint64_t{1} << number;
  return mask;
}

void keep_only_worker_capabilities() noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return;
  const std::uint64_t keep = worker_capabilities();
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
    const auto part = static_cast<std::uint32_t>(keep >> (32 * i));
    data[i].effective &= part;
    data[i].permitted &= part;
    data[i].inheritable &= part;
  }
  ::syscall(SYS_capset, &header, data);
}

std::string describe_worker_privileges() {
  std::string kept;
  for (const auto& [number, name] : kKept) {
    if (!kept.empty()) kept += ", ";
    kept += name;
  }
  return "worker threads keep " + kept +
         " and drop every other capability (CAP_SYS_RESOURCE among them: quotas and reserved "
         "blocks hold through the mount); file data is written with its writer's file system "
         "ids, so another user's write clears set-uid bits as natively";
}

}  // namespace zc::fs
