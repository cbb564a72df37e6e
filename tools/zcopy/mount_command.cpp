// zcopy mount SRC MNT: serve SRC at MNT through the FUSE mirror until unmounted, Ctrl-C or
// SIGTERM (and `zcopy mount bench`, in mount_bench.cpp). Without --foreground the daemon detaches
// once the mount works and the parent exits with its verdict.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "command.hpp"
#include "mount_bench.hpp"
#include "options.hpp"
#include "stop_signals.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/fs/mount.hpp"
#include "zcopy/fs/transport.hpp"

namespace zc::cli {
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
};

std::string describe(const fs::Mount& mount, const MountCommandOptions& o) {
  std::string text = "zcopy mount: " + o.source + " on " + o.mountpoint + ", mode " +
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

Result<fs::MountOptions> to_mount_options(const MountCommandOptions& o) {
  auto mode = fs::mount_mode_from_name(o.mode);
  if (!mode) return usage_error("mount --mode " + o.mode, std::string("use ") + kModes);
  fs::MountOptions options;
  options.mode = *mode;
  options.allow_other = o.allow_other;
  options.debug = o.debug;
  options.max_threads = o.threads;
  options.transport = *fs::mount_transport_from_name(o.transport);
  return options;
}

CommandResult run_foreground(const MountCommandOptions& o, const fs::MountOptions& options) {
  auto mount = fs::Mount::start(o.source, o.mountpoint, options);
  if (!mount) return std::unexpected(mount.error());
  std::fprintf(stderr, "%s\n", describe(*mount, o).c_str());
  serve(*mount);
  return kExitOk;
}

// The parent waits for one status line from the detached child: "<exit code> <message>".
CommandResult run_background(const MountCommandOptions& o, const fs::MountOptions& options) {
  auto pipe = make_pipe();
  if (!pipe) return std::unexpected(pipe.error());
  auto child = sys_call("fork", [] { return ::fork(); });
  if (!child) return std::unexpected(child.error());
  if (*child == 0) {
    pipe->read_end.reset();
    ::setsid();
    auto mount = fs::Mount::start(o.source, o.mountpoint, options);
    std::string status;
    if (mount) {
      status = "0 " + describe(*mount, o);
    } else {
      status = std::to_string(exit_code_for(mount.error())) + " zcopy: " + mount.error().message();
    }
    [[maybe_unused]] const ssize_t n = ::write(pipe->write_end.get(), status.data(), status.size());
    pipe->write_end.reset();
    if (!mount) ::_exit(1);
    const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null, fd);
    serve(*mount);
    ::_exit(0);
  }
  pipe->write_end.reset();
  std::string status;
  char chunk[512];
  for (;;) {
    auto n = sys_call({"read", pipe->read_end.get()},
                      [&] { return ::read(pipe->read_end.get(), chunk, sizeof chunk); });
    if (!n || *n == 0) break;
    status.append(chunk, static_cast<size_t>(*n));
  }
  if (status.size() < 2) {
    return fail(Errc::closed, "zcopy mount", "the daemon exited before reporting");
  }
  std::fprintf(stderr, "%s\n", status.substr(2).c_str());
  return status[0] - '0';
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
  CommandRunner bench = add_mount_bench_command(sub);
  return [o, bench, &sub]() -> CommandResult {
    if (sub.got_subcommand("bench")) return bench();
    if (o->source.empty() || o->mountpoint.empty()) {
      return usage_error("mount", "needs SOURCE and MOUNTPOINT (zcopy mount SOURCE MOUNTPOINT)");
    }
    auto options = to_mount_options(*o);
    if (!options) return std::unexpected(options.error());
    // Refused before forking, in one line, when the kernel does not allow it.
    if (auto transport = fs::choose_transport(options->transport); !transport) {
      return std::unexpected(transport.error());
    }
    // Stop signals are taken by sigtimedwait in serve(); every thread started later inherits
    // the mask, so none of them dies of Ctrl-C halfway.
    block_stop_signals(SIGHUP);
    return o->foreground ? run_foreground(*o, *options) : run_background(*o, *options);
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
