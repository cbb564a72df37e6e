// tests/fs/mount_fixture.hpp: a fresh SRC and MNT for every test, and a mirror that is always
// unmounted and removed, also when the test fails halfway.
//
//   MountFixture f;
//   ASSERT_TRUE(f.mount(zc::fs::MountMode::splice));
//   EXPECT_EQ(sh("cat " + f.mnt + "/x").status, 0);
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

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
  bool mount_in_child(const fs::MountOptions& options) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) return false;
    daemon_ = spawn([&] {
      ::close(ends[0]);
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGTERM);
      ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
      auto started = fs::Mount::start(src, mnt, options);
      const std::string status =
          started ? std::string(fs::to_string(started->active_mode())) : started.error().message();
      [[maybe_unused]] const ssize_t n = ::write(ends[1], status.data(), status.size());
      ::close(ends[1]);
      if (!started) return 1;
      int signal = 0;
      ::sigwait(&set, &signal);
      (void)started->stop();
      return 0;
    });
    ::close(ends[1]);
    const std::string status = read_to_end(ends[0]);
    ::close(ends[0]);
    if (status != fs::to_string(options.mode)) {
      error = status.empty() ? "the daemon died" : status;
      return false;
    }
    return true;
  }

  void unmount() {
    if (daemon_ > 0) {
      ::kill(daemon_, SIGTERM);
      daemon_exit = reap(daemon_);
      daemon_ = -1;
    }
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
  std::optional<int> daemon_exit;  // of the child daemon, after unmount()

 private:
  pid_t daemon_ = -1;
};

inline std::string mode_name(const ::testing::TestParamInfo<fs::MountMode>& info) {
  return std::string(fs::to_string(info.param));
}

}  // namespace zc::test
