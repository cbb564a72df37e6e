// zcopy mount SRC MNT: serve SRC at MNT through the FUSE mirror until unmounted, Ctrl-C or
// SIGTERM (bench/fs/mount_run.hpp; `zcopy mount bench` is in mount_bench.cpp). Without
// --foreground the daemon detaches once the mount works and the parent exits with its verdict.
#include <signal.h>

#include <memory>
#include <string>

#include "bench/fs/mount_run.hpp"
#include "command.hpp"
#include "options.hpp"
#include "stop_signals.hpp"
#include "zcopy/fs/mount.hpp"
#include "zcopy/fs/transport.hpp"

namespace zc::cli {

CommandRunner add_mount_bench_command(CLI::App& mount);  // mount_bench.cpp

namespace {

constexpr const char* kModes = "auto, passthrough, splice or copy";
constexpr const char* kTransports = "auto, uring or dev";

struct MountCommandOptions {
  std::string source;
  std::string mountpoint;
  std::string mode = "auto";
  bool foreground = false;
  bool allow_other = false;
  bool debug = false;
  unsigned threads = 8;
  std::string transport = "auto";
  double cache_timeout = fs::MountOptions{}.cache_seconds;
};

Result<bench::MountRunConfig> to_run_config(const MountCommandOptions& o) {
  auto mode = fs::mount_mode_from_name(o.mode);
  if (!mode) return usage_error("mount --mode " + o.mode, std::string("use ") + kModes);
  const fs::MountTransport asked = *fs::mount_transport_from_name(o.transport);
  // Refused before forking, in one line, when the kernel does not allow it.
  if (auto transport = fs::choose_transport(asked); !transport) {
    return std::unexpected(transport.error());
  }
  return bench::MountRunConfig{.source = o.source,
                               .mountpoint = o.mountpoint,
                               .options = {.mode = *mode,
                                           .allow_other = o.allow_other,
                                           .max_threads = o.threads,
                                           .cache_seconds = o.cache_timeout,
                                           .debug = o.debug,
                                           .transport = asked},
                               .foreground = o.foreground};
}

}  // namespace

CommandRunner add_mount_command(CLI::App& sub) {
  auto o = std::make_shared<MountCommandOptions>();
  sub.add_option("source", o->source, "Directory to mirror");
  sub.add_option("mountpoint", o->mountpoint, "Existing empty directory to mount it on");
  sub.add_option("--mode", o->mode,
                 "auto (passthrough, else splice), passthrough, splice or copy (default auto)")
      ->check(accepted_by(fs::mount_mode_from_name, kModes));
  sub.add_flag("--foreground,-f", o->foreground, "Stay in the foreground until Ctrl-C");
  sub.add_flag("--allow-other", o->allow_other, "Let other users use the mount");
  sub.add_option("--threads", o->threads, "Worker threads (default 8)")
      ->check(CLI::Range(1U, 256U));
  sub.add_flag("--debug", o->debug, "Trace FUSE requests on stderr (with --foreground)");
  sub.add_option("--transport", o->transport,
                 "auto (io_uring where available, else /dev/fuse), uring or dev (default auto)")
      ->check(accepted_by(fs::mount_transport_from_name, kTransports));
  sub.add_option("--cache-timeout", o->cache_timeout,
                 "Seconds the kernel may trust names, attributes, absent names and listings before "
                 "asking again; changes made in SOURCE directly show after at most this long "
                 "(default 1)")
      ->check(CLI::Range(0.0, 86400.0));
  CommandRunner bench = add_mount_bench_command(sub);
  return [o, bench, &sub]() -> CommandResult {
    if (sub.got_subcommand("bench")) return bench();
    if (o->source.empty() || o->mountpoint.empty()) {
      return usage_error("mount", "needs SOURCE and MOUNTPOINT (zcopy mount SOURCE MOUNTPOINT)");
    }
    auto config = to_run_config(*o);
    if (!config) return std::unexpected(config.error());
    // Stop signals are taken by sigtimedwait while the mount serves; every thread started later
    // inherits the mask, so none of them dies of Ctrl-C halfway.
    block_stop_signals(SIGHUP);
    if (auto ran = bench::run_mount(*config); !ran) return std::unexpected(ran.error());
    return kExitOk;
  };
}

CommandRunner add_umount_command(CLI::App& sub) {
  auto mountpoint = std::make_shared<std::string>();
  sub.add_option("mountpoint", *mountpoint, "A zcopy (or any FUSE) mount point")->required();
  return [mountpoint]() -> CommandResult {
    if (auto done = fs::unmount(*mountpoint); !done) return std::unexpected(done.error());
    return kExitOk;
  };
}

}  // namespace zc::cli
