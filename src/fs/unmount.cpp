// unmount(): for `zcopy umount`, including the ENOTCONN a killed daemon leaves behind.
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include <cerrno>

#include "zcopy/core/syscall.hpp"
#include "zcopy/fs/mount.hpp"

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

namespace zc::fs {

Result<void> unmount(const std::string& mountpoint) {
  // Refuse to unmount anything that is not FUSE; a dead daemon's mount answers ENOTCONN, or,
  // while the kernel still tears down its io_uring queues, ECONNABORTED or ECANCELED.
  struct statfs st {};
  if (::statfs(mountpoint.c_str(), &st) == 0) {
    if (st.f_type != FUSE_SUPER_MAGIC) {
      return fail(Errc::invalid_argument, "umount(" + mountpoint + ")", "not a FUSE mount");
    }
  } else if (errno != ENOTCONN && errno != ECONNABORTED && errno != ECANCELED) {
    return fail_errno(errno, "statfs(" + mountpoint + ")");
  }
  auto rc = sys_call("umount2", [&] { return ::umount2(mountpoint.c_str(), UMOUNT_NOFOLLOW); });
  if (rc) return {};
  if (rc.error().sys_errno() == EBUSY) {
    rc = sys_call("umount2(MNT_DETACH)",
                  [&] { return ::umount2(mountpoint.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW); });
    if (rc) return {};
  }
  return fail_errno(rc.error().sys_errno(), "umount2(" + mountpoint + ")",
                    rc.error().sys_errno() == EPERM ? "needs root (or fusermount3 -u)" : "");
}

}  // namespace zc::fs
