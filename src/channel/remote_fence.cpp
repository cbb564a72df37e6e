// membarrier(2) for the channel's asymmetric fences.
#include "remote_fence.hpp"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "zcopy/core/syscall.hpp"

namespace zc::detail {
namespace {

long membarrier(int command) {
  return ::syscall(SYS_membarrier, command, 0U, 0);
}

std::unexpected<Error> missing(const std::string& why) {
  return fail(Errc::capability_missing, "membarrier", why);
}

}  // namespace

Result<void> register_for_remote_fences() {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer cannot see the barrier another process forces on us, so it would report the
  // publisher's relaxed load of subscriber_sleeping as a race. Its builds keep the seq_cst path.
  return missing("ThreadSanitizer does not model membarrier; using seq_cst");
#else
  auto supported =
      sys_call("membarrier(MEMBARRIER_CMD_QUERY)", [] { return membarrier(MEMBARRIER_CMD_QUERY); });
  if (!supported) return missing(supported.error().message());
  constexpr long kNeeded =
      MEMBARRIER_CMD_GLOBAL_EXPEDITED | MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED;
  if ((*supported & kNeeded) != kNeeded) {
    return missing("the kernel lacks MEMBARRIER_CMD_GLOBAL_EXPEDITED (Linux 4.16)");
  }
  auto registered = sys_call("membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED)",
                             [] { return membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED); });
  if (!registered) return std::unexpected(registered.error());
  return {};
#endif
}

Result<void> fence_remote_threads() {
  auto fenced = sys_call("membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)",
                         [] { return membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED); });
  if (!fenced) return std::unexpected(fenced.error());
  return {};
}

}  // namespace zc::detail
