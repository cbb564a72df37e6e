// tests/fs/tree_scale.hpp: a tree of `files` small files created, stat'ed, read and removed
// through a mount whose daemon may open only `descriptor_limit` descriptors, with no error at any
// step; the daemon's memory per inode it knows is reported (as test properties and on stdout).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "mount_fixture.hpp"
#include "tree_workload.hpp"

namespace zc::test {

inline void run_tree_at_scale(const TreeShape& shape, rlim_t descriptor_limit) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  f.daemon_descriptor_limit = descriptor_limit;
  ASSERT_TRUE(f.mount_in_child(fs::MountMode::auto_select)) << f.error;
  auto before = f.daemon_report();
  ASSERT_TRUE(before);
  const std::string root = f.mnt + "/tree";
  std::string times;
  auto timed = [&](const char* name, auto step) {
    const auto start = std::chrono::steady_clock::now();
    const TreeStep result = step();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    times += std::string(" ") + name + " " + std::to_string(seconds).substr(0, 5) + " s";
    ::testing::Test::RecordProperty(std::string(name) + "_seconds", std::to_string(seconds));
    EXPECT_EQ(result.first_error, "") << name;
    EXPECT_EQ(result.done, shape.files()) << name;
  };
  timed("create", [&] { return create_tree(root, shape); });
  timed("stat", [&] { return stat_tree(root, shape); });
  auto peak = f.daemon_report();
  ASSERT_TRUE(peak);
  EXPECT_LE(peak->descriptors, descriptor_limit);
  timed("read", [&] { return read_tree(root, shape); });
  timed("remove", [&] { return remove_tree(root, shape); });

  const double known = static_cast<double>(peak->inodes - before->inodes);
  const double heap = static_cast<double>(peak->heap_bytes - before->heap_bytes) / known;
  const double rss = static_cast<double>(peak->rss_bytes - before->rss_bytes) / known;
  ::testing::Test::RecordProperty("inodes_known", std::to_string(peak->inodes));
  ::testing::Test::RecordProperty("heap_bytes_per_inode", std::to_string(heap));
  ::testing::Test::RecordProperty("rss_bytes_per_inode", std::to_string(rss));
  std::printf(
      "%zu files, daemon limit %lu descriptors:%s; the daemon knew %lu inodes with %lu "
      "descriptors open, %.0f heap bytes and %.0f resident bytes per inode\n",
      shape.files(), static_cast<unsigned long>(descriptor_limit), times.c_str(),
      static_cast<unsigned long>(peak->inodes), static_cast<unsigned long>(peak->descriptors), heap,
      rss);
  f.unmount();
  EXPECT_EQ(f.daemon_exit, 0);
}

}  // namespace zc::test
