// Source file systems: found on first sight, tested for file handles, told apart by index.
#include "source_devices.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "inode_handle.hpp"

namespace zc::fs {
namespace {

constexpr std::uint64_t kShownIndexShift = 48;
constexpr std::uint64_t kMaxIndex = (std::uint64_t{1} << 15) - 1;

#ifndef XFS_SUPER_MAGIC
#define XFS_SUPER_MAGIC 0x58465342
#endif
#ifndef F2FS_SUPER_MAGIC
#define F2FS_SUPER_MAGIC 0xF2F52010
#endif

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

// File systems without a flush operation: closing a descriptor on them reports nothing.
bool close_is_silent(long type) {
  switch (static_cast<unsigned long>(type)) {
    case EXT4_SUPER_MAGIC:  // also ext2 and ext3
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case TMPFS_MAGIC:
    case F2FS_SUPER_MAGIC:
      return true;
    default:
      return false;
  }
}

std::string describe(const struct stat& st) {
  return "the file system on device " + std::to_string(major(st.st_dev)) + ":" +
         std::to_string(minor(st.st_dev));
}

}  // namespace

std::uint64_t SourceDevice::shown_ino(std::uint64_t ino) const noexcept {
  if (ino >> kShownIndexShift != 0) return 0;
  return (std::uint64_t{index} << kShownIndexShift) | ino;
}

SourceDevices::SourceDevices(int root_fd, const struct stat& root_stat, Log log)
    : log_(std::move(log)) {
  devices_.push_back(examine(root_stat, root_fd, 0));
  root_ = devices_.front().get();
}

SourceDevice& SourceDevices::of(const struct stat& st, int fd) {
  if (st.st_dev == root_->dev) return *root_;
  const std::lock_guard lock(mutex_);
  for (const auto& device : devices_) {
    if (device->dev == st.st_dev) return *device;
  }
  devices_.push_back(examine(st, fd, static_cast<std::uint32_t>(devices_.size())));
  return *devices_.back();
}

std::unique_ptr<SourceDevice> SourceDevices::examine(const struct stat& st, int fd,
                                                     std::uint32_t index) {
  auto device = std::make_unique<SourceDevice>();
  device->dev = st.st_dev;
  device->index = static_cast<std::uint32_t>(std::min<std::uint64_t>(index, kMaxIndex));
  struct statfs fs {};
  if (::fstatfs(fd, &fs) == 0) device->close_reports_errors = !close_is_silent(fs.f_type);

  std::string why;
  if (static_cast<unsigned long>(fs.f_type) == FUSE_SUPER_MAGIC) {
    // Its handles reopen only inodes the kernel still caches, unless the server opted in.
    why = "a FUSE file system's handles outlive only the kernel's cache of its inodes";
  } else if (!S_ISDIR(st.st_mode)) {
    why = "first met through a file that is not a directory";
  } else if (auto handle = InodeHandle::of(fd); !handle) {
    why = "it exports no file handles (" + handle.error().message() + ")";
  } else if (auto dir = Fd::open("/proc/self/fd/" + std::to_string(fd), O_RDONLY | O_DIRECTORY);
             !dir) {
    why = "its root cannot be opened for reading (" + dir.error().message() + ")";
  } else if (auto again = handle->open(dir->get(), O_PATH); !again) {
    why = "open_by_handle_at failed (" + again.error().message() +
          (again.error().sys_errno() == EPERM ? "; it needs CAP_DAC_READ_SEARCH)" : ")");
  } else {
    device->mount_fd = std::move(*dir);
    device->handles = true;
  }
  if (!device->handles && log_) {
    log_("inodes on " + describe(st) + " are held by O_PATH descriptors, one per inode: " + why);
  }
  return device;
}

}  // namespace zc::fs
