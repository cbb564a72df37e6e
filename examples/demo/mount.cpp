// `zcopy demo` section 8: a directory mirrored through FUSE, read through the mount in the best
// mode the machine allows and natively, with the daemon's own count of the reads it served.
#include "zcopy/fs/mount.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/table.hpp"
#include "examples/demo/sections.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/core/units.hpp"

namespace zc::demo {
namespace {

using bench::Table;

constexpr std::uint64_t kFileBytes = 64 * kMiB;

// Reads `path` to the end, checking every byte against the pattern the file was written with.
Result<double> timed_read(const std::string& path, std::vector<char>& buffer) {
  auto fd = Fd::open(path, O_RDONLY);
  if (!fd) return std::unexpected(fd.error());
  const CpuStopwatch clock;
  std::uint64_t total = 0;
  for (;;) {
    auto n = sys_call({"read", fd->get()},
                      [&] { return ::read(fd->get(), buffer.data(), buffer.size()); });
    if (!n) return std::unexpected(n.error());
    if (*n == 0) break;
    for (ssize_t i = 0; i < *n; i += 4096) {
      if (buffer[static_cast<std::size_t>(i)] !=
          static_cast<char>((total + static_cast<std::uint64_t>(i)) / 4096)) {
        return fail(Errc::corrupt, "read " + path, "wrong bytes through the mount");
      }
    }
    total += static_cast<std::uint64_t>(*n);
  }
  if (total != kFileBytes) return fail(Errc::corrupt, "read " + path, "short read");
  return static_cast<double>(kFileBytes) / (clock.wall_s());
}

}  // namespace

Result<void> demo_mount(const DemoSettings& /*settings*/) {
  demo_heading(8, "A FUSE mirror whose daemon never touches file data",
               "zcopy mount serves a directory through FUSE. With kernel passthrough the "
               "daemon answers only\n   metadata: reads go straight to the backing file. "
               "Otherwise splice moves pages, not bytes.");
  for (Capability needed : {Capability::fuse, Capability::cap_sys_admin}) {
    if (const Probe& p = probe(needed); !p.available) {
      std::printf("   skipped: needs %s: %s\n", std::string(name(needed)).c_str(),
                  p.detail.c_str());
      return {};
    }
  }
  auto scratch = bench::TempDir::create("zcopy-demo-mount");
  if (!scratch) return std::unexpected(scratch.error());
  const std::string source = *scratch / "src";
  const std::string mountpoint = *scratch / "mnt";
  std::filesystem::create_directory(source);
  std::filesystem::create_directory(mountpoint);
  {
    auto fd = Fd::open(source + "/data", O_WRONLY | O_CREAT, 0644);
    if (!fd) return std::unexpected(fd.error());
    std::vector<char> page(4096);
    for (std::uint64_t off = 0; off < kFileBytes; off += page.size()) {
      std::fill(page.begin(), page.end(), static_cast<char>(off / 4096));
      if (auto w = sys_call({"write", fd->get()},
                            [&] { return ::write(fd->get(), page.data(), page.size()); });
          !w) {
        return std::unexpected(w.error());
      }
    }
  }
  auto mount = fs::Mount::start(source, mountpoint, fs::MountOptions{});
  if (!mount) return std::unexpected(mount.error());
  std::vector<char> buffer(kMiB);
  auto native = timed_read(source + "/data", buffer);
  if (!native) return std::unexpected(native.error());
  auto mirrored = timed_read(mountpoint + "/data", buffer);
  if (!mirrored) return std::unexpected(mirrored.error());
  const fs::MountStats stats = mount->stats();
  const fs::MountMode mode = mount->active_mode();
  const std::string reason = mount->fallback_reason();
  (void)mount->stop();

  Table table({"read of a hot 64 MiB file", "rate", "READ requests the daemon served"});
  table.add_row({"native", format_rate(*native), "-"});
  table.add_row({"through the mount (" + std::string(fs::to_string(mode)) + ")",
                 format_rate(*mirrored), std::to_string(stats.reads)});
  table.print(stdout);
  if (!reason.empty()) std::printf("\n   passthrough unavailable: %s\n", reason.c_str());
  if (mode == fs::MountMode::passthrough && stats.reads != 0) {
    return fail(Errc::corrupt, "mount demo", "passthrough mode still sent reads to the daemon");
  }
  std::printf(
      "\n   Every byte read through the mount was checked. 'zcopy mount bench' compares "
      "the modes.\n");
  return {};
}

}  // namespace zc::demo
