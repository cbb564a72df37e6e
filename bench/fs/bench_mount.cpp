#include "bench/fs/bench_mount.hpp"

#include <filesystem>

namespace zc::bench {

Result<fs::Mount> mount_for_bench(const std::string& source, const std::string& scratch,
                                  const std::string& mode_name) {
  auto mode = fs::mount_mode_from_name(mode_name);
  if (!mode) return fail(Errc::usage, "mount bench --modes " + mode_name, "unknown mode");
  const std::string mountpoint = scratch + "/mnt-" + mode_name;
  std::error_code ec;
  std::filesystem::create_directory(mountpoint, ec);
  if (ec) return fail(Errc::system, "mkdir " + mountpoint, ec.message());
  fs::MountOptions options;
  options.mode = *mode;
  auto mount = fs::Mount::start(source, mountpoint, options);
  if (!mount) return std::unexpected(mount.error());
  if (*mode != fs::MountMode::auto_select && mount->active_mode() != *mode)
    return fail(Errc::capability_missing, "mount bench " + mode_name, mount->fallback_reason());
  return mount;
}

}  // namespace zc::bench
