// bench/fs/scratch_fs.hpp: a fresh ext4 for one measurement, so that every method starts from the
// same file-system state (a new inode table, nothing recently deleted): a sparse image file made
// with mkfs.ext4, attached to a loop device with direct I/O (no second page cache for the image)
// and mounted; on destruction unmounted, detached and deleted. Made like the file system the image
// lives on where that can be seen (no journal if it has none). Never mounted with discard, even
// where that file system is: through a loop device each freed extent would become a hole punched
// in the image and a discard of the host's disk, whose time varies with the host, not the mirror.
//
//   auto fs = zc::bench::ScratchFs::create(scratch / "image", scratch / "fs", 2 * kGiB, 100'000);
//   if (!fs) return std::unexpected(fs.error());
//   untar_into(fs->path() + "/src");
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::bench {

// How the scratch file systems are made: mkfs.ext4 arguments and mount options.
struct ScratchFsLayout {
  std::vector<std::string> mkfs_options{};
  std::string mount_options = "noinit_itable";  // no lazy inode-table zeroing while measuring
  // "mkfs.ext4 -O ^has_journal, mounted noinit_itable": for the report.
  std::string describe() const;
};

// Like the ext4 holding `dir` where that can be seen (whether it has a journal, from
// /proc/fs/jbd2); mke2fs's defaults otherwise.
ScratchFsLayout scratch_layout_like(const std::string& dir);

class ScratchFs {
 public:
  // Makes `image` (sparse, `size` bytes, at least `inodes` inodes) and mounts it on `mountpoint`,
  // which it creates. Needs root and a loop device (capability_missing otherwise).
  static Result<ScratchFs> create(const std::string& image, const std::string& mountpoint,
                                  std::uint64_t size, std::uint64_t inodes,
                                  const ScratchFsLayout& layout);
  ScratchFs(ScratchFs&& other) noexcept;
  ScratchFs& operator=(ScratchFs&&) = delete;
  ScratchFs(const ScratchFs&) = delete;
  ScratchFs& operator=(const ScratchFs&) = delete;
  ~ScratchFs();

  const std::string& path() const noexcept { return mountpoint_; }

 private:
  ScratchFs(std::string image, std::string mountpoint) noexcept
      : image_(std::move(image)), mountpoint_(std::move(mountpoint)) {}
  void remove() noexcept;

  std::string image_;
  std::string mountpoint_;
  Fd loop_{};  // auto-clearing: the device detaches once unmounted and closed
  bool mounted_ = false;
};

}  // namespace zc::bench
