// Acting for the caller: creating with its file system ids, checking its access by mode bits.
#include "caller.hpp"

#include <fcntl.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>

#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::fs {
namespace {

// Whether `gid` is among the caller's groups. The request carries only the primary one; the
// supplementary ones are read from /proc (libfuse's fuse_req_getgroups reads past its buffer).
bool in_group(const fuse_ctx& ctx, gid_t gid) {
  if (ctx.gid == gid) return true;
  auto status = Fd::open("/proc/" + std::to_string(ctx.pid) + "/status", O_RDONLY);
  if (!status) return false;
  std::string text;
  char chunk[4096];
  for (;;) {
    auto n = sys_call({"read", status->get()},
                      [&] { return ::read(status->get(), chunk, sizeof chunk); });
    if (!n || *n == 0) break;
    text.append(chunk, static_cast<std::size_t>(*n));
  }
  constexpr std::string_view kGroups = "\nGroups:";
  const std::size_t start = text.find(kGroups);
  if (start == std::string::npos) return false;
  const char* at = text.data() + start + kGroups.size();
  const char* const end = text.data() + std::min(text.find('\n', start + 1), text.size());
  while (at < end) {
    if (*at == ' ' || *at == '\t') {
      ++at;
      continue;
    }
    gid_t group = 0;
    const auto [next, error] = std::from_chars(at, end, group);
    if (error != std::errc{}) return false;
    if (group == gid) return true;
    at = next;
  }
  return false;
}

}  // namespace

CreateAsCaller::CreateAsCaller(fuse_req_t req) noexcept {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  if (ctx == nullptr) return;
  own_uid_ = ::geteuid();
  own_gid_ = ::getegid();
  if (ctx->uid == own_uid_ && ctx->gid == own_gid_) return;
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  if (::syscall(SYS_capget, &header, own_caps_) != 0) return;
  // setfsuid and setfsgid change the calling thread only (glibc does not broadcast them).
  ::setfsgid(ctx->gid);
  ::setfsuid(ctx->uid);
  switched_ = true;
  // Leaving uid 0 took the file system capabilities out of the effective set; the kernel has
  // checked the caller's permission already, so they come back (the call only restores them).
  ::syscall(SYS_capset, &header, own_caps_);
}

CreateAsCaller::~CreateAsCaller() {
  if (!switched_) return;
  ::setfsuid(own_uid_);
  ::setfsgid(own_gid_);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  ::syscall(SYS_capset, &header, own_caps_);
}

ActAsWriter::ActAsWriter(fuse_req_t req) noexcept {
  own_uid_ = ::geteuid();
  own_gid_ = ::getegid();
  const fuse_ctx* ctx = fuse_req_ctx(req);
  if (ctx == nullptr || (ctx->uid == own_uid_ && ctx->gid == own_gid_)) return;
  // Leaving uid 0 takes CAP_FSETID (with the other file system capabilities) out of the
  // effective set by itself, and coming back restores them. The daemon's own user keeps them:
  // its writes keep set-uid bits as a native write by root does.
  ::setfsgid(ctx->gid);
  ::setfsuid(ctx->uid);
  switched_ids_ = true;
}

ActAsWriter::~ActAsWriter() {
  if (!switched_ids_) return;
  ::setfsuid(own_uid_);
  ::setfsgid(own_gid_);
}

bool caller_may_open(fuse_req_t req, const struct stat& st, int flags) {
  const fuse_ctx* ctx = fuse_req_ctx(req);
  if (ctx == nullptr || ctx->uid == 0) return true;  // root overrides the mode bits
  const int access = flags & O_ACCMODE;
  mode_t wanted = 0;
  if (access != O_WRONLY) wanted |= S_IROTH;
  if (access != O_RDONLY || (flags & O_TRUNC) != 0) wanted |= S_IWOTH;
  mode_t granted = st.st_mode & S_IRWXO;
  if (st.st_uid == ctx->uid) {
    granted = (st.st_mode & S_IRWXU) >> 6;
  } else if (in_group(*ctx, st.st_gid)) {
    granted = (st.st_mode & S_IRWXG) >> 3;
  }
  return (granted & wanted) == wanted;
}

}  // namespace zc::fs
