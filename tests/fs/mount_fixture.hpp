// tests/fs/mount_fixture.hpp: a fresh SRC and MNT for every test, and a mirror that is always
// unmounted and removed, also when the test fails halfway.
//
//   MountFixture f;
//   ASSERT_TRUE(f.mount(zc::fs::MountMode::splice));
//   EXPECT_EQ(sh("cat " + f.mnt + "/x").status, 0);
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "support/capability_gate.hpp"
#include "support/child_process.hpp"
#include "zcopy/fs/mount.hpp"

namespace zc::fs {
// Test names and messages show "splice", not "1-byte object <02>".
inline void PrintTo(MountMode mode, std::ostream* out) {
  *out << to_string(mode);
}
}  // namespace zc::fs

namespace zc::test {

// Everything a mount test needs: /dev/fuse, and the privilege to mount without fusermount3.
#define ZC_REQUIRE_FUSE_MOUNT()                             \
  do {                                                      \
    ZC_REQUIRE_CAPABILITY(::zc::Capability::fuse);          \
    ZC_REQUIRE_CAPABILITY(::zc::Capability::cap_sys_admin); \
  } while (false)

struct Shell {
  int status = -1;     // exit code, or 128 + signal
  std::string output;  // stdout and stderr together
};

// Runs `command` under /bin/sh (a command line as a user types it) and collects its output.
inline Shell sh(const std::string& command) {
  bench::RunResult run = bench::run({"/bin/sh", "-c", command});
  return {run.exit_code, std::move(run.output)};
}

// Everything left to read from `fd`, up to end of file.
inline std::string read_to_end(int fd) {
  std::string text;
  char chunk[4096];
  for (ssize_t n; (n = ::read(fd, chunk, sizeof chunk)) > 0;) {
    text.append(chunk, static_cast<std::size_t>(n));
  }
  return text;
}

// The contents of the file at `path` ("" when there is none).
inline std::string slurp(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string text = read_to_end(fd);
  ::close(fd);
  return text;
}

// lstat(2) of `path`; a test failure when there is nothing there.
inline struct stat lstat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

using bench::TempDir;

class MountFixture {
 public:
  MountFixture() : src(dir_.path() + "/src"), mnt(dir_.path() + "/mnt") {
    std::filesystem::create_directory(src);
    std::filesystem::create_directory(mnt);
  }
  ~MountFixture() { unmount(); }
  MountFixture(const MountFixture&) = delete;
  MountFixture& operator=(const MountFixture&) = delete;

  // Scratch space beside SRC and MNT, outside the mount.
  const std::string& dir() const { return dir_.path(); }

  // Lets other users walk to SRC and MNT: the scratch directory is created private to its owner.
  bool open_to_other_users() const { return ::chmod(dir_.path().c_str(), 0755) == 0; }

  // Mounts SRC at MNT; false (with the reason in `error`) when it cannot.
  bool mount(fs::MountMode mode, double cache_seconds = 1) {
    fs::MountOptions options;
    options.mode = mode;
    options.cache_seconds = cache_seconds;
    auto started = fs::Mount::start(src, mnt, options);
    if (!started) {
      error = started.error().message();
      return false;
    }
    mirror.emplace(std::move(*started));
    return true;
  }

  // Mounts SRC at MNT from a child process. Use it when the test itself makes system calls on
  // the mount: if the daemon crashed inside the test process, a test thread waiting on a FUSE
  // request could never be woken; a crashed child instead closes /dev/fuse and the test sees
  // ENOTCONN.
  bool mount_in_child(fs::MountMode mode) {
    fs::MountOptions options;
    options.mode = mode;
    return mount_in_child(options);
  }

  // The same with every option chosen (e.g. allow_other, for tests that act as another user).
  // With `daemon_descriptor_limit` set, the daemon's open-file limit (soft and hard, or soft
  // only with `daemon_hard_descriptor_limit`) is pinned to it before the mount starts.
  bool mount_in_child(const fs::MountOptions& options) {
    int ends[2];
    int reports[2];
    int logs[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) return false;
    if (::pipe2(reports, O_CLOEXEC) != 0) return false;
    if (::pipe2(logs, O_CLOEXEC) != 0) return false;
    daemon_ = spawn([&] {
      ::close(ends[0]);
      ::close(reports[0]);
      ::close(logs[0]);
      for (int capability : daemon_drops_capabilities) {
        if (!drop_capability(capability)) return 3;
      }
      fs::MountOptions logged = options;
      if (!logged.log) {
        logged.log = [fd = logs[1]](std::string_view line) {
          const std::string text = std::string(line) + "\n";
          [[maybe_unused]] const ssize_t w = ::write(fd, text.data(), text.size());
        };
      }
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGTERM);
      sigaddset(&set, SIGUSR1);
      ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
      if (daemon_descriptor_limit) {
        const struct rlimit limit {
          *daemon_descriptor_limit, daemon_hard_descriptor_limit.value_or(*daemon_descriptor_limit)
        };
        if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) return 2;
      }
      auto started = fs::Mount::start(src, mnt, logged);
      const std::string status =
          started ? std::string(fs::to_string(started->active_mode())) : started.error().message();
      [[maybe_unused]] const ssize_t n = ::write(ends[1], status.data(), status.size());
      ::close(ends[1]);
      if (!started) return 1;
      for (int signal = 0; ::sigwait(&set, &signal) == 0 && signal == SIGUSR1;) {
        const std::string report = describe_daemon(started->stats());
        [[maybe_unused]] const ssize_t w = ::write(reports[1], report.data(), report.size());
      }
      (void)started->stop();
      return 0;
    });
    ::close(ends[1]);
    ::close(reports[1]);
    ::close(logs[1]);
    reports_ = reports[0];
    logs_ = logs[0];
    ::fcntl(logs_, F_SETFL, O_NONBLOCK);
    const std::string status = read_to_end(ends[0]);
    ::close(ends[0]);
    // Auto settles on a mode of its own; any other mode must be the one asked for.
    const auto mode = fs::mount_mode_from_name(status);
    if (!mode || (options.mode != fs::MountMode::auto_select && *mode != options.mode)) {
      error = status.empty() ? "the daemon died" : status;
      return false;
    }
    return true;
  }

  // The lines the daemon started by mount_in_child() logged so far (MountOptions::log).
  const std::string& daemon_log() {
    char chunk[4096];
    for (ssize_t n; logs_ >= 0 && (n = ::read(logs_, chunk, sizeof chunk)) > 0;) {
      log_.append(chunk, static_cast<std::size_t>(n));
    }
    return log_;
  }

  // What the daemon started by mount_in_child() says about itself right now.
  struct DaemonReport {
    std::uint64_t inodes = 0;              // inodes the kernel knows
    std::uint64_t cached_descriptors = 0;  // idle inode descriptors open
    std::uint64_t heap_bytes = 0;          // malloc'd and in use
    std::uint64_t rss_bytes = 0;           // resident
    std::uint64_t descriptors = 0;         // open in the daemon, all kinds
  };
  std::optional<DaemonReport> daemon_report() {
    if (daemon_ <= 0 || ::kill(daemon_, SIGUSR1) != 0) return std::nullopt;
    char line[256] = {};
    const ssize_t n = ::read(reports_, line, sizeof line - 1);  // one report is one write
    if (n <= 0) return std::nullopt;
    DaemonReport r;
    if (std::sscanf(line, "%lu %lu %lu %lu %lu", &r.inodes, &r.cached_descriptors, &r.heap_bytes,
                    &r.rss_bytes, &r.descriptors) != 5) {
      return std::nullopt;
    }
    return r;
  }

  // The daemon started by mount_in_child(), while it runs.
  pid_t daemon_pid() const { return daemon_; }

  // Stops the daemon started by mount_in_child() (SIGTERM: it unmounts and exits) and reaps it.
  void stop_daemon() {
    if (daemon_ > 0) {
      ::kill(daemon_, SIGTERM);
      daemon_exit = reap(daemon_);
      daemon_ = -1;
    }
    if (reports_ >= 0) ::close(std::exchange(reports_, -1));
    if (logs_ >= 0) {
      (void)daemon_log();
      ::close(std::exchange(logs_, -1));
    }
  }

  void unmount() {
    stop_daemon();
    if (mirror) {
      (void)mirror->stop();
      mirror.reset();
    }
    // Last resort for a mount something else left behind.
    ::umount2(mnt.c_str(), MNT_DETACH);
  }

 private:
  TempDir dir_;  // destroyed last, after the mount is gone

 public:
  std::string src;
  std::string mnt;
  std::optional<fs::Mount> mirror;
  std::string error;
  std::optional<int> daemon_exit;                 // of the child daemon, after unmount()
  std::optional<rlim_t> daemon_descriptor_limit;  // for mount_in_child()
  // With daemon_descriptor_limit set, a hard limit above it (the soft one stays that).
  std::optional<rlim_t> daemon_hard_descriptor_limit;
  std::vector<int> daemon_drops_capabilities;  // CAP_* numbers, for mount_in_child()

 private:
  // "inodes cached heap rss descriptors", from inside the daemon.
  static std::string describe_daemon(const fs::MountStats& stats) {
    const struct mallinfo2 heap = ::mallinfo2();
    std::uint64_t rss_pages = 0;
    if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(statm, "%*u %lu", &rss_pages) != 1) rss_pages = 0;
      std::fclose(statm);
    }
    std::uint64_t descriptors = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
      ++descriptors;
    }
    return std::to_string(stats.inodes) + " " + std::to_string(stats.cached_descriptors) + " " +
           std::to_string(heap.uordblks) + " " +
           std::to_string(rss_pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))) + " " +
           std::to_string(descriptors) + "\n";
  }

  pid_t daemon_ = -1;
  int reports_ = -1;
  int logs_ = -1;
  std::string log_;
};

inline std::string mode_name(const ::testing::TestParamInfo<fs::MountMode>& info) {
  return std::string(fs::to_string(info.param));
}

}  // namespace zc::test
