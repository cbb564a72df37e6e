// A randomized sequence of file operations run on a native directory and on the mirror, step by
// step: every step must give the same result on both sides and leave the touched entries with
// the same contents and metadata.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "mount_fixture.hpp"
#include "support/sanitizer.hpp"

namespace zc::test {
namespace {

std::string result_of(int rc) {
  return rc < 0 ? std::string("errno ") + ::strerrorname_np(errno) : "ok";
}

// Contents, type and the metadata that must match; mtime only when the sequence set it.
std::string describe_entry(const std::string& path, bool with_mtime) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::string("absent ") + ::strerrorname_np(errno);
  std::string text = "mode " + std::to_string(st.st_mode) + " nlink " +
                     std::to_string(st.st_nlink) + " uid " + std::to_string(st.st_uid) + " gid " +
                     std::to_string(st.st_gid);
  if (with_mtime) {
    text +=
        " mtime " + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  }
  if (S_ISREG(st.st_mode)) {
    text += " size " + std::to_string(st.st_size) + " data ";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    std::string data;
    char chunk[65536];
    for (ssize_t n; fd >= 0 && (n = ::read(fd, chunk, sizeof chunk)) > 0;) {
      data.append(chunk, static_cast<size_t>(n));
    }
    if (fd >= 0) ::close(fd);
    text += std::to_string(std::hash<std::string>{}(data));
  } else if (S_ISLNK(st.st_mode)) {
    char target[256] = {};
    text += " -> " + std::string(target, static_cast<size_t>(std::max<ssize_t>(
                                             0, ::readlink(path.c_str(), target, sizeof target))));
  }
  return text;
}

// The sorted names in a directory, or why there are none.
std::string list_dir(const std::string& path) {
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return std::string("errno ") + ::strerrorname_np(errno);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) names.emplace_back(e->d_name);
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  std::string text;
  for (const auto& n : names) text += n + " ";
  return text;
}

// Every entry under `root`, described, in order.
std::string describe_tree(const std::string& root, const std::string& rel = "") {
  std::string text = list_dir(root + rel) + "\n";
  DIR* dir = ::opendir((root + rel).c_str());
  if (dir == nullptr) return text;
  std::vector<std::string> names;
  while (dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      names.emplace_back(e->d_name);
    }
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const std::string path = rel + "/" + name;
    text += path + ": " + describe_entry(root + path, false) + "\n";
    struct stat st {};
    if (::lstat((root + path).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      text += describe_tree(root, path);
    }
  }
  return text;
}

class RandomOperations : public ::testing::TestWithParam<fs::MountMode> {};

TEST_P(RandomOperations, MatchANativeDirectoryStepByStep) {
  ZC_REQUIRE_FUSE_MOUNT();
  if (GetParam() == fs::MountMode::passthrough) {
    ZC_REQUIRE_CAPABILITY(Capability::fuse_passthrough);
  }
  MountFixture f;
  ASSERT_TRUE(f.mount_in_child(GetParam())) << f.error;
  const std::string native = f.dir() + "/native";
  ASSERT_EQ(::mkdir(native.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(f.src.c_str(), 0755), 0);

  const unsigned seed = 20261122U + static_cast<unsigned>(GetParam());
  std::mt19937 rng(seed);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const std::vector<std::string> parents{"", "/x", "/x/y", "/z"};
  const std::vector<std::string> names{"a", "b", "c", "x", "y", "z"};
  auto any_path = [&] { return parents[pick(parents.size())] + "/" + names[pick(names.size())]; };
  const std::vector<std::string> link_targets{"a", "b", "x/a", "missing"};
  const std::vector<mode_t> modes{0600, 0644, 0755, 0700, 0640};

  const std::size_t steps = scaled(600);
  for (std::size_t step = 0; step < steps; ++step) {
    const int op = static_cast<int>(pick(15));
    const std::string p1 = any_path();
    const std::string p2 = any_path();
    const std::uint64_t offset = pick(3) == 0 ? 0 : pick(300000);
    const std::size_t length = pick(4) == 0 ? 0 : 1 + pick(70000);
    std::string data(length, '\0');
    for (auto& c : data) c = static_cast<char>(rng());
    const mode_t mode = modes[pick(modes.size())];
    const unsigned rename_flags =
        std::vector<unsigned>{0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE}[pick(4)];
    const std::string target = link_targets[pick(link_targets.size())];
    const struct timespec times[2] = {{1000000000 + static_cast<time_t>(pick(1000)), 5},
                                      {1500000000 + static_cast<time_t>(pick(1000)), 123456789}};
    const int fallocate_mode = std::vector<int>{
        0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE}[pick(3)];

    // The same operation on one side; returns what it observed.
    auto apply = [&](const std::string& root) -> std::string {
      const std::string a = root + p1;
      const std::string b = root + p2;
      switch (op) {
        case 0:
        case 1: {  // write at an offset (creating), or append
          const int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (op == 1 ? O_APPEND : 0);
          const int fd = ::open(a.c_str(), flags, mode);
          if (fd < 0) return result_of(fd);
          const ssize_t n =
              op == 1 ? ::write(fd, data.data(), data.size())
                      : ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
          const std::string r = n < 0 ? result_of(-1) : "wrote " + std::to_string(n);
          ::close(fd);
          return r;
        }
        case 2: {  // truncate
          const int fd = ::open(a.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0) return result_of(fd);
          const std::string r = result_of(::ftruncate(fd, static_cast<off_t>(offset)));
          ::close(fd);
          return r;
        }
        case 3:
          return result_of(::mkdir(a.c_str(), mode));
        case 4:
          return result_of(::rmdir(a.c_str()));
        case 5:
          return result_of(::unlink(a.c_str()));
        case 6:
          return result_of(::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), rename_flags));
        case 7:
          return result_of(::link(a.c_str(), b.c_str()));
        case 8:
          return result_of(::symlink(target.c_str(), a.c_str()));
        case 9:
          return result_of(::chmod(a.c_str(), mode));
        case 10:
          return result_of(::utimensat(AT_FDCWD, a.c_str(), times, AT_SYMLINK_NOFOLLOW));
        case 11: {  // fallocate
          const int fd = ::open(a.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC);
          if (fd < 0) return result_of(fd);
          const std::string r = result_of(::fallocate(
              fd, fallocate_mode, static_cast<off_t>(offset), static_cast<off_t>(length + 1)));
          ::close(fd);
          return r;
        }
        case 12: {  // copy_file_range from p1 into p2
          const int in = ::open(a.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
          if (in < 0) return result_of(in);
          const int out = ::open(b.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
          if (out < 0) {
            ::close(in);
            return result_of(out);
          }
          loff_t from = 0;
          loff_t to = static_cast<loff_t>(offset);
          const ssize_t n = ::copy_file_range(in, &from, out, &to, length, 0);
          ::close(in);
          ::close(out);
          return n < 0 ? result_of(-1) : "copied " + std::to_string(n);
        }
        case 13: {  // user xattr set, then read back
          const int rc = ::lsetxattr(a.c_str(), "user.zcopy", data.data(),
                                     std::min<std::size_t>(data.size(), 200), 0);
          if (rc < 0) return result_of(rc);
          char value[256];
          const ssize_t n = ::lgetxattr(a.c_str(), "user.zcopy", value, sizeof value);
          return n < 0 ? result_of(-1) : std::string(value, static_cast<std::size_t>(n));
        }
        default:
          return list_dir(root + parents[static_cast<std::size_t>(op) % parents.size()]);
      }
    };

    const std::string on_native = apply(native);
    const std::string on_mount = apply(f.mnt);
    ASSERT_EQ(on_native, on_mount) << "step " << step << " op " << op << " " << p1 << " " << p2;
    for (const std::string& p : {p1, p2}) {
      const bool times_set = op == 10 && p == p1;  // times this step set must match exactly
      ASSERT_EQ(describe_entry(native + p, times_set), describe_entry(f.mnt + p, times_set))
          << "step " << step << " op " << op << " path " << p;
    }
    if (step % 50 == 49 || step + 1 == steps) {
      ASSERT_EQ(describe_tree(native), describe_tree(f.mnt)) << "step " << step;
    }
  }
  // The mount shows the source as it is: same inodes, same bytes.
  const std::string mounted = describe_tree(f.mnt);
  f.unmount();
  EXPECT_EQ(f.daemon_exit, 0);
  EXPECT_EQ(describe_tree(f.src), mounted);
}

INSTANTIATE_TEST_SUITE_P(Modes, RandomOperations,
                         ::testing::Values(fs::MountMode::passthrough, fs::MountMode::splice,
                                           fs::MountMode::copy),
                         mode_name);

}  // namespace
}  // namespace zc::test
