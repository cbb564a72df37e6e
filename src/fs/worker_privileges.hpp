// src/fs/worker_privileges.hpp: the capabilities the mirror's worker threads keep.
//
// A daemon that runs as root serves requests with every capability root has unless it gives
// them up, and some of them change what the source file system allows: CAP_SYS_RESOURCE passes
// quota hard limits and ext4's reserved blocks. The thread that starts the workers keeps only
// what serving needs before it starts them (capabilities belong to threads, and new threads
// inherit them), so the process that embeds a Mount keeps its own:
//
//   CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_MKNOD,
//   CAP_SETUID, CAP_SETGID, CAP_SETFCAP, CAP_SYS_ADMIN
//
// (file ownership and modes the kernel already allowed the caller, file handles, creating as the
// caller, capability xattrs, FUSE passthrough). Data is written with the writer's file system
// ids (caller.hpp's ActAsWriter), which leaves CAP_FSETID and the other file system
// capabilities behind: another user's write clears set-uid bits and meets that user's quota and
// reserved-block limits, while root's own writes keep the bits as natively.
#pragma once

#include <cstdint>
#include <string>

namespace zc::fs {

// The name of the thread that runs the FUSE loop, and so of every worker it starts (a new thread
// takes its creator's name): what tells the mirror's workers from other threads of the process.
inline constexpr char kWorkerThreadName[] = "zcopy-fuse";

// The kept set as a capability bit mask (bit n is CAP number n).
std::uint64_t worker_capabilities() noexcept;

// Drops every other capability from the calling thread's effective, permitted and inheritable
// sets. A thread without capabilities is left as it is.
void keep_only_worker_capabilities() noexcept;

}  // namespace zc::fs
