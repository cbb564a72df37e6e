// bench/fs/fuse_peer.hpp: libfuse's own low-level passthrough example (passthrough_ll.c, which
// libfuse3-dev ships as source) as the mirror's peer in the mount benchmark: built once into a
// scratch directory, then run as a process of its own over a mount point, taken down (and its
// mount with it) when done, on error and on Ctrl-C.
//
//   auto built = zc::bench::build_fuse_peer(zc::bench::kFuseExamplesDir, scratch);
//   if (!built) puts(("passthrough_ll skipped: " + built.error().detail()).c_str());
//   auto peer = zc::bench::FusePeer::start(built->binary, src, mnt, 1.0, scratch + "/peer.log");
#pragma once

#include <string>
#include <vector>

#include "bench/support/process.hpp"
#include "zcopy/core/error.hpp"

namespace zc::bench {

inline constexpr const char* kFuseExamplesDir = "/usr/share/doc/libfuse3-dev/examples";
inline constexpr const char* kFusePeerName = "passthrough_ll";

struct FusePeerBuild {
  std::string binary{};
  std::string fuse_version{};  // pkg-config --modversion fuse3
};

// Compiles EXAMPLES/passthrough_ll.c with cc -O2 against fuse3 (pkg-config) into SCRATCH. An
// error (capability_missing) whose detail says in one line why not: no source, no compiler, no
// fuse3 for pkg-config, or the compiler's first complaint.
Result<FusePeerBuild> build_fuse_peer(const std::string& examples, const std::string& scratch);

class FusePeer {
 public:
  // Runs `binary` in the foreground over `mountpoint` with `source` and the entry and attribute
  // timeout `cache_seconds` (like the mirror's), otherwise its defaults (multithreaded, no
  // writeback cache); its output goes to `log`. Returns once the mount is live.
  static Result<FusePeer> start(const std::string& binary, const std::string& source,
                                const std::string& mountpoint, double cache_seconds,
                                const std::string& log);
  // Its arguments with SRC and MNT for the paths: how it was run, for the report.
  static std::string arguments(double cache_seconds);

  FusePeer(FusePeer&& other) noexcept;
  FusePeer& operator=(FusePeer&&) = delete;
  FusePeer(const FusePeer&) = delete;
  FusePeer& operator=(const FusePeer&) = delete;
  ~FusePeer();

  // SIGTERM (it unmounts and exits), SIGKILL if it has not ended within 10 s, then whatever
  // mount it left is detached. An error when the mount could not be taken down.
  Result<void> stop();

 private:
  FusePeer(Process process, std::string mountpoint) noexcept
      : process_(std::move(process)), mountpoint_(std::move(mountpoint)) {}

  Process process_;
  std::string mountpoint_;  // empty once stopped or moved from
};

}  // namespace zc::bench
