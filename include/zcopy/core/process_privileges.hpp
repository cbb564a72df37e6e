// zcopy/core/process_privileges.hpp: which Linux capabilities the calling thread holds right now.
//
// Being root is not the question the kernel asks: it checks one capability per operation
// (CAP_IPC_LOCK to pin past RLIMIT_MEMLOCK, CAP_SYS_ADMIN to read physical frame numbers). This
// asks the same question, from the effective set:
//
//   #include <linux/capability.h>
//   zc::Result<bool> admin = zc::has_effective_capability(CAP_SYS_ADMIN);
//   if (admin && !*admin) std::puts("run as root to see physical addresses");
//
// Capability sets belong to threads, so the answer is for the calling thread.
#pragma once

#include "zcopy/core/error.hpp"

namespace zc {

// True when `capability` (a CAP_* number from <linux/capability.h>) is in the calling thread's
// effective set. Fails for a number outside 0..63 or when capget(2) fails.
Result<bool> has_effective_capability(int capability);

}  // namespace zc
