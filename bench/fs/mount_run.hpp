// bench/fs/mount_run.hpp: the life of `zcopy mount SOURCE MOUNTPOINT`: the mirror started, one
// status line on stderr, served until SIGINT, SIGTERM or SIGHUP arrives or the mount goes away,
// then unmounted. Detached, the daemon reports once the mount works (core/daemon.hpp) and the
// call returns with its verdict while the daemon serves on.
//
//   zc::bench::block_stop_signals(SIGHUP);  // before any thread starts
//   auto ran = zc::bench::run_mount({.source = src, .mountpoint = mnt, .options = options});
#pragma once

#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/fs/mount.hpp"

namespace zc::bench {

struct MountRunConfig {
  std::string source;
  std::string mountpoint;
  fs::MountOptions options{};
  bool foreground = false;
};

// The stop signals (bench/support/stop_signals.hpp, with SIGHUP) must be blocked in the calling
// thread already, so that no thread the mount starts dies of them halfway.
Result<void> run_mount(const MountRunConfig& config);

}  // namespace zc::bench
