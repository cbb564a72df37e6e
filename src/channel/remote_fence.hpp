// Asymmetric fences for the channel's sleeping handshake (see "Sleeping" in publisher.cpp): the
// publisher's per-message path keeps only a compiler barrier, and a subscriber about to sleep
// pays instead, with membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), which makes every running
// thread of every registered process pass a full memory barrier before it returns.
// Private to the channel module.
#pragma once

#include "zcopy/core/error.hpp"

namespace zc::detail {

// Registers this process as a target of MEMBARRIER_CMD_GLOBAL_EXPEDITED. Called by every
// Publisher::create, not once per process: a child forked after an earlier registration must
// not rely on its parent's. Errc::capability_missing with the reason where membarrier is
// missing, refused (seccomp) or not modelled (ThreadSanitizer builds keep the seq_cst path).
Result<void> register_for_remote_fences();

// Makes every running thread of every registered process pass a full memory barrier; a thread
// that is not running passes one at its next context switch. Needs no registration of its own.
Result<void> fence_remote_threads();

}  // namespace zc::detail
