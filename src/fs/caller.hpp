// src/fs/caller.hpp: acting for the user whose request the daemon serves.
//
// The daemon usually runs as root and, with --allow-other, serves other users. What it creates
// for them must be theirs from birth: a chown afterwards would go by a name another user can swap
// in between, or hand over a file this request never created. So each creating call runs under a
// CreateAsCaller, which gives the thread the caller's file system uid and gid. The kernel has
// already checked the caller's permission on the mirror (default_permissions), so the thread keeps
// its capabilities: only the owner of what it creates changes, and the group follows the usual
// rules (a set-group-ID directory's group).
//
// A file that appears under a name between the kernel's LOOKUP and CREATE was never checked for
// the caller; caller_may_open() checks it with the mode bits the kernel would have used.
//
// Synchronization: file system ids and capabilities belong to one thread; a CreateAsCaller
// changes the calling thread's for its lifetime, and nothing else.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/types.h>

namespace zc::fs {

class CreateAsCaller {
 public:
  // Switches to the caller of `req` when it is not the daemon's own user; a daemon without the
  // privilege to switch creates as itself.
  explicit CreateAsCaller(fuse_req_t req) noexcept;
  ~CreateAsCaller();
  CreateAsCaller(const CreateAsCaller&) = delete;
  CreateAsCaller& operator=(const CreateAsCaller&) = delete;

 private:
  bool switched_ = false;
  uid_t own_uid_ = 0;
  gid_t own_gid_ = 0;
  __user_cap_data_struct own_caps_[_LINUX_CAPABILITY_U32S_3] = {};
};

// Writes file data for the caller of `req` (and registers passthrough backing files, whose
// credentials the kernel keeps for the I/O it does itself) with the caller's file system ids
// when they are not the daemon's: the caller's reserved-block and quota limits apply, and
// without CAP_FSETID the write clears set-uid and set-gid bits as the caller's own write would.
class ActAsWriter {
 public:
  explicit ActAsWriter(fuse_req_t req) noexcept;
  ~ActAsWriter();
  ActAsWriter(const ActAsWriter&) = delete;
  ActAsWriter& operator=(const ActAsWriter&) = delete;

 private:
  bool switched_ids_ = false;
  uid_t own_uid_ = 0;
  gid_t own_gid_ = 0;
};

// Whether the caller of `req` may open the file `st` describes with open(2) `flags`, by its owner,
// group and mode bits (what default_permissions checks).
bool caller_may_open(fuse_req_t req, const struct stat& st, int flags);

}  // namespace zc::fs
