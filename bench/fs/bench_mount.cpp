#include "bench/fs/bench_mount.hpp"

#include <filesystem>
#include <optional>

namespace zc::bench {

std::string mount_method(const std::string& mode_name, const std::string& transport_name) {
  return transport_name.empty() ? mode_name : mode_name + "/" + transport_name;
}

Result<fs::Mount> mount_for_bench(const std::string& source, const std::string& scratch,
                                  const std::string& mode_name, const std::string& transport_name,
                                  double cache_seconds) {
  auto mode = fs::mount_mode_from_name(mode_name);
  if (!mode) return fail(Errc::usage, "mount bench --modes " + mode_name, "unknown mode");
  auto transport = transport_name.empty() ? std::optional(fs::MountTransport::auto_select)
                                          : fs::mount_transport_from_name(transport_name);
  if (!transport) {
    return fail(Errc::usage, "mount bench --transports " + transport_name, "unknown transport");
  }
  const std::string mountpoint =
      scratch + "/mnt-" + mode_name + (transport_name.empty() ? "" : "-" + transport_name);
  std::error_code ec;
  std::filesystem::create_directory(mountpoint, ec);
  if (ec) return fail(Errc::system, "mkdir " + mountpoint, ec.message());
  fs::MountOptions options;
  options.mode = *mode;
  options.transport = *transport;
  options.cache_seconds = cache_seconds;
  auto mount = fs::Mount::start(source, mountpoint, options);
  if (!mount) return std::unexpected(mount.error());
  if (*mode != fs::MountMode::auto_select && mount->active_mode() != *mode)
    return fail(Errc::capability_missing, "mount bench " + mode_name, mount->fallback_reason());
  if (*transport != fs::MountTransport::auto_select && mount->transport() != *transport) {
    return fail(Errc::capability_missing, "mount bench " + transport_name,
                mount->transport_reason());
  }
  return mount;
}

}  // namespace zc::bench
