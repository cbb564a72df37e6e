// Directories are listed without OPENDIR: each READDIR(PLUS) opens the directory afresh at the
// offset the kernel passes. Listings stay exact while the directory changes, positions kept by
// telldir stay valid across requests, and the kernel's own cache of a listing never hides a
// change made in SRC once the cache time is over.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mount_fixture.hpp"

namespace zc::test {
namespace {

constexpr int kKept = 3000;  // many READDIRPLUS requests of one page each

std::uint64_t count_of(const MountFixture& f, fs::MountOperation operation) {
  return f.mirror->stats().by_operation[static_cast<std::size_t>(operation)];
}

std::string kept_name(int i) {
  return "kept-" + std::to_string(i) + "-with-a-longer-name-so-fewer-fit-per-request";
}

// Every name the listing returned, with how often.
std::map<std::string, int> list_all(const std::string& path) {
  std::map<std::string, int> seen;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return seen;
  while (struct dirent* entry = ::readdir(dir)) ++seen[entry->d_name];
  ::closedir(dir);
  return seen;
}

TEST(UnopenedDirectories, ALargeDirectoryChangingMeanwhileListsEveryKeptEntryExactlyOnce) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  for (int i = 0; i < kKept; ++i) std::ofstream(f.src + "/" + kept_name(i)) << i;
  ASSERT_TRUE(f.mount(fs::MountMode::auto_select, 0)) << f.error;

  std::atomic<bool> done{false};
  std::thread churn([&] {
    // Names come and go through the mount (the kernel drops its cached listing) and in SRC
    // directly (it does not know), while the listings below run.
    for (int round = 0; !done.load(); ++round) {
      const std::string via_mount = f.mnt + "/churn-" + std::to_string(round % 64);
      const std::string via_src = f.src + "/direct-" + std::to_string(round % 64);
      if ((round / 64) % 2 == 0) {
        ::close(::open(via_mount.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        ::close(::open(via_src.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
      } else {
        ::unlink(via_mount.c_str());
        ::unlink(via_src.c_str());
      }
    }
  });
  for (int pass = 0; pass < 5; ++pass) {
    const std::map<std::string, int> seen = list_all(f.mnt);
    int kept = 0;
    for (const auto& [name, times] : seen) {
      EXPECT_EQ(times, 1) << name << " listed " << times << " times in pass " << pass;
      if (name.starts_with("kept-")) ++kept;
    }
    EXPECT_EQ(kept, kKept) << "pass " << pass;
    EXPECT_EQ(seen.count("."), 1U);
    EXPECT_EQ(seen.count(".."), 1U);
  }
  done = true;
  churn.join();
}

TEST(UnopenedDirectories, APositionFromTelldirLeadsBackToTheSameEntriesInALaterRequest) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  for (int i = 0; i < kKept; ++i) std::ofstream(f.src + "/" + kept_name(i)) << i;
  ASSERT_TRUE(f.mount(fs::MountMode::auto_select, 0)) << f.error;

  DIR* dir = ::opendir(f.mnt.c_str());
  ASSERT_NE(dir, nullptr);
  // Past the first request's page, so the position is one only the source can resolve.
  for (int i = 0; i < kKept / 2; ++i) ASSERT_NE(::readdir(dir), nullptr);
  const long position = ::telldir(dir);
  std::vector<std::string> after;
  while (struct dirent* entry = ::readdir(dir)) after.emplace_back(entry->d_name);
  ASSERT_FALSE(after.empty());

  ::seekdir(dir, position);
  std::vector<std::string> again;
  while (struct dirent* entry = ::readdir(dir)) again.emplace_back(entry->d_name);
  EXPECT_EQ(again, after);

  // A second stream of the same directory seeks there too.
  DIR* other = ::opendir(f.mnt.c_str());
  ASSERT_NE(other, nullptr);
  ::seekdir(other, position);
  std::vector<std::string> from_other;
  while (struct dirent* entry = ::readdir(other)) from_other.emplace_back(entry->d_name);
  EXPECT_EQ(from_other, after);
  ::closedir(other);
  ::closedir(dir);
}

TEST(UnopenedDirectories, ListingADirectorySendsNoOpendirOrReleasedirAfterTheFirst) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  for (int i = 0; i < 10; ++i) std::ofstream(f.src + "/f" + std::to_string(i)) << i;
  ASSERT_TRUE(f.mount(fs::MountMode::auto_select, 0)) << f.error;
  EXPECT_EQ(list_all(f.mnt).size(), 12U);
  const std::uint64_t opens = count_of(f, fs::MountOperation::opendir);
  EXPECT_LE(opens, 1U);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(list_all(f.mnt).size(), 12U);
  EXPECT_EQ(count_of(f, fs::MountOperation::opendir), opens);
  EXPECT_EQ(count_of(f, fs::MountOperation::releasedir), 0U);
  // fsync of a directory needs no handle either.
  const int fd = ::open(f.mnt.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::fsync(fd), 0) << errno;
  ::close(fd);
}

TEST(UnopenedDirectories, AKernelCachedListingShowsANameMadeInTheSourceOnceTheCacheTimeIsOver) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  std::ofstream(f.src + "/first") << "1";
  ASSERT_TRUE(f.mount(fs::MountMode::auto_select, 0)) << f.error;
  EXPECT_EQ(list_all(f.mnt).count("first"), 1U);
  EXPECT_EQ(list_all(f.mnt).count("first"), 1U);  // the kernel has it cached now
  std::ofstream(f.src + "/second") << "2";
  ::unlink((f.src + "/first").c_str());
  const std::map<std::string, int> seen = list_all(f.mnt);
  EXPECT_EQ(seen.count("second"), 1U);
  EXPECT_EQ(seen.count("first"), 0U);
}

}  // namespace
}  // namespace zc::test
