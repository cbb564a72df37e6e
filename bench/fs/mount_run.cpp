#include "bench/fs/mount_run.hpp"

#include <signal.h>

#include <cstdio>
#include <optional>

#include "bench/support/stop_signals.hpp"
#include "zcopy/core/daemon.hpp"

namespace zc::bench {
namespace {

std::string describe(const fs::Mount& mount, const MountRunConfig& config) {
  std::string text = "zcopy mount: " + config.source + " on " + config.mountpoint + ", mode " +
                     std::string(fs::to_string(mount.active_mode()));
  if (const std::string reason = mount.fallback_reason(); !reason.empty()) {
    text += " (passthrough unavailable: " + reason + ")";
  }
  if (mount.transport() == fs::MountTransport::uring) {
    text += ", transport io_uring";
  } else {
    text += ", transport /dev/fuse";
    if (const std::string why = mount.transport_reason(); !why.empty()) {
      text += " (io_uring not used: " + why + ")";
    }
  }
  return text;
}

// Serves until a stop signal arrives or the mount goes away, then unmounts.
void serve(fs::Mount& mount) {
  const sigset_t set = stop_signal_set(SIGHUP);
  const struct timespec tick { 0, 200'000'000 };
  while (mount.running()) {
    if (::sigtimedwait(&set, nullptr, &tick) > 0) break;
  }
  (void)mount.stop();
}

}  // namespace

Result<void> run_mount(const MountRunConfig& config) {
  std::optional<fs::Mount> mount;
  auto start = [&]() -> Result<std::string> {
    auto made = fs::Mount::start(config.source, config.mountpoint, config.options);
    if (!made) return std::unexpected(made.error());
    mount.emplace(std::move(*made));
    return describe(*mount, config);
  };
  auto started =
      config.foreground ? start() : start_daemon("zcopy mount", start, [&] { serve(*mount); });
  if (!started) return std::unexpected(started.error());
  std::fprintf(stderr, "%s\n", started->c_str());
  if (config.foreground) serve(*mount);
  return {};
}

}  // namespace zc::bench
