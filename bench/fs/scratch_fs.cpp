#include "bench/fs/scratch_fs.hpp"

#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::bench {
namespace {

namespace stdfs = std::filesystem;

// mke2fs's default bytes per inode (/etc/mke2fs.conf).
constexpr std::uint64_t kBytesPerInode = 16 * 1024;

// The block device name ("vda") of the file system holding `dir`, empty when there is none.
std::string device_name_of(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return {};
  std::error_code ec;
  const stdfs::path link = stdfs::read_symlink(
      "/sys/dev/block/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)),
      ec);
  return ec ? std::string{} : link.filename().string();
}

struct LoopDevice {
  Fd fd;
  std::string path;
};

// A free loop device bound to `backing`, auto-clearing, with direct I/O where the backing file
// system allows it.
Result<LoopDevice> attach_loop(int backing) {
  auto control = Fd::open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (!control) {
    return fail(Errc::capability_missing, "open /dev/loop-control",
                control.error().message() +
                    " (the scratch file systems need root and loop "
                    "devices; --no-scratch-fs runs in --dir instead)");
  }
  bool direct = true;
  for (int attempt = 0; attempt < 16; ++attempt) {
    auto number = sys_call("ioctl LOOP_CTL_GET_FREE",
                           [&] { return ::ioctl(control->get(), LOOP_CTL_GET_FREE); });
    if (!number) return std::unexpected(number.error());
    const std::string path = "/dev/loop" + std::to_string(*number);
    auto loop = Fd::open(path, O_RDWR | O_CLOEXEC);
    if (!loop) return std::unexpected(loop.error());
    struct loop_config config {};
    config.fd = static_cast<std::uint32_t>(backing);
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    if (direct) config.info.lo_flags |= LO_FLAGS_DIRECT_IO;
    if (::ioctl(loop->get(), LOOP_CONFIGURE, &config) == 0)
      return LoopDevice{std::move(*loop), path};
    if (errno == EINVAL && direct) {
      direct = false;  // the backing file system refuses direct I/O: buffered, then
    } else if (errno != EBUSY) {
      return std::unexpected(Error::from_errno(errno, "ioctl LOOP_CONFIGURE", path));
    }
    // EBUSY: taken by someone else meanwhile; ask for another.
  }
  return fail(Errc::exhausted, "attach a loop device", "every free device was taken meanwhile");
}

}  // namespace

std::string ScratchFsLayout::describe() const {
  std::string text = "mkfs.ext4";
  for (const std::string& option : mkfs_options) text += " " + option;
  return text + ", mounted " + mount_options;
}

ScratchFsLayout scratch_layout_like(const std::string& dir) {
  ScratchFsLayout layout;
  const std::string device = device_name_of(dir);
  if (device.empty()) return layout;
  if (read_text("/proc/fs/ext4/" + device + "/options").empty()) return layout;  // not ext4
  bool journal = false;
  std::error_code ec;
  for (stdfs::directory_iterator it("/proc/fs/jbd2", ec), end; !ec && it != end; it.increment(ec))
    journal = journal || it->path().filename().string().starts_with(device + "-");
  if (!journal) layout.mkfs_options = {"-O", "^has_journal"};
  return layout;
}

Result<ScratchFs> ScratchFs::create(const std::string& image, const std::string& mountpoint,
                                    std::uint64_t size, std::uint64_t inodes,
                                    const ScratchFsLayout& layout) {
  if (!have_program("mkfs.ext4"))
    return fail(Errc::capability_missing, "mkfs.ext4", "not installed (e2fsprogs)");
  ScratchFs fs(image, mountpoint);
  {
    auto file = Fd::open(image, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (!file) return std::unexpected(file.error());
    auto sized = sys_call({"ftruncate", file->get()},
                          [&] { return ::ftruncate(file->get(), static_cast<off_t>(size)); });
    if (!sized) return std::unexpected(std::move(sized.error()).with_context(image));
  }
  std::vector<std::string> mkfs{"mkfs.ext4", "-q", "-F"};
  mkfs.insert(mkfs.end(), layout.mkfs_options.begin(), layout.mkfs_options.end());
  if (inodes > size / kBytesPerInode) mkfs.insert(mkfs.end(), {"-N", std::to_string(inodes)});
  mkfs.push_back(image);
  if (const RunResult made = run(mkfs); made.exit_code != 0)
    return fail(Errc::system, "mkfs.ext4 " + image, made.output);
  auto backing = Fd::open(image, O_RDWR | O_CLOEXEC);
  if (!backing) return std::unexpected(backing.error());
  auto loop = attach_loop(backing->get());
  if (!loop) return std::unexpected(loop.error());
  fs.loop_ = std::move(loop->fd);
  std::error_code ec;
  stdfs::create_directory(mountpoint, ec);
  if (ec) return fail(Errc::system, "mkdir " + mountpoint, ec.message());
  const std::string& device = loop->path;
  auto mounted = sys_call("mount", [&] {
    return ::mount(device.c_str(), mountpoint.c_str(), "ext4", 0, layout.mount_options.c_str());
  });
  if (!mounted) return std::unexpected(std::move(mounted.error()).with_context(mountpoint));
  fs.mounted_ = true;
  return fs;
}

ScratchFs::ScratchFs(ScratchFs&& other) noexcept
    : image_(std::exchange(other.image_, {})),
      mountpoint_(std::exchange(other.mountpoint_, {})),
      loop_(std::move(other.loop_)),
      mounted_(std::exchange(other.mounted_, false)) {}

ScratchFs::~ScratchFs() {
  remove();
}

void ScratchFs::remove() noexcept {
  if (mounted_ && ::umount2(mountpoint_.c_str(), 0) != 0) {
    // Busy (a process still inside): it is ours, so detach it; it goes when they leave.
    (void)::umount2(mountpoint_.c_str(), MNT_DETACH);
  }
  mounted_ = false;
  loop_.reset();  // the last reference: the device clears itself
  if (!mountpoint_.empty()) (void)::rmdir(mountpoint_.c_str());
  if (!image_.empty()) (void)::unlink(image_.c_str());
}

}  // namespace zc::bench
