// tests/support/small_disk.hpp: small file systems mounted for one test, to be filled, and
// unmounted whatever happens: a tmpfs, and an ext4 in a loop-mounted image file (which allocates
// blocks as a disk does, fallocate and delayed allocation included). Both need root.
//
//   test::SmallTmpfs disk(dir / "disk", "1m");
//   ASSERT_TRUE(disk.mounted()) << "mount(tmpfs): " << std::strerror(errno);
#pragma once

#include <sys/mount.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

#include "support/shell_command.hpp"

namespace zc::test {

// A mount point that is unmounted (lazily) when the object goes.
class MountedHere {
 public:
  explicit MountedHere(std::string path) : path_(std::move(path)) {
    std::filesystem::create_directories(path_);
  }
  ~MountedHere() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  MountedHere(const MountedHere&) = delete;
  MountedHere& operator=(const MountedHere&) = delete;
  bool mounted() const { return mounted_; }

 protected:
  std::string path_;
  bool mounted_ = false;
};

class SmallTmpfs : public MountedHere {
 public:
  // `size` as tmpfs takes it ("1m").
  SmallTmpfs(const std::string& path, const char* size) : MountedHere(path) {
    const std::string data = std::string("size=") + size;
    mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, data.c_str()) == 0;
  }
};

// Its loop device goes with the last file open on it (mount -o loop clears it then).
class SmallExt4 : public MountedHere {
 public:
  // An ext4 of `mebibytes` in the image file `image`, mounted on `path`; mkfs's and mount's
  // words are in why_not() when it could not be made.
  SmallExt4(const std::string& path, const std::string& image, std::uint64_t mebibytes)
      : MountedHere(path) {
    const auto made = run_command("truncate -s " + std::to_string(mebibytes) + "M '" + image +
                                  "' && mkfs.ext4 -q -F '" + image + "' 2>&1 && mount -o loop '" +
                                  image + "' '" + path + "' 2>&1");
    mounted_ = made.exit_code == 0;
    why_not_ = made.output;
  }
  const std::string& why_not() const { return why_not_; }

 private:
  std::string why_not_;
};

}  // namespace zc::test
