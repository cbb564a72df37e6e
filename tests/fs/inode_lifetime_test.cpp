// An inode the kernel forgets while a daemon thread still holds its descriptor (the kernel may
// forget it as soon as it has the reply, before that thread leaves the handler: rm -rf does so
// for the directory an unlink just emptied) is freed only when that thread lets go, and its
// memory never goes back on the descriptor list.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>

#include "bench/support/data.hpp"
#include "fs/inode_table.hpp"

namespace zc::test {
namespace {

struct Table {
  explicit Table(const std::string& root) {
    auto fd = Fd::open(root, O_PATH | O_DIRECTORY);
    EXPECT_TRUE(fd);
    struct stat st {};
    EXPECT_EQ(::fstat(fd->get(), &st), 0);
    table.emplace(std::move(*fd), st, fs::InodeTable::Options{.descriptor_capacity = 8});
  }
  // The inode of `name` beneath the root, with one lookup.
  fs::Inode* remember(const std::string& name) {
    auto dir = table->descriptor(table->root());
    auto fd = Fd::open_at(dir->get(), name, O_PATH | O_NOFOLLOW);
    EXPECT_TRUE(fd);
    struct stat st {};
    EXPECT_EQ(::fstat(fd->get(), &st), 0);
    auto inode = table->remember(std::move(*fd), st, true);
    EXPECT_TRUE(inode);
    return inode ? *inode : nullptr;
  }
  std::optional<fs::InodeTable> table;
};

TEST(InodeLifetime, AnInodeForgottenWhileInUseIsFreedWhenItsUserLetsGo) {
  const bench::TempDir dir("zcopy-inode-lifetime");
  ::mkdir((dir / "emptied").c_str(), 0755);
  std::ofstream(dir / "file") << "x";
  Table t(dir.path());
  for (const char* name : {"emptied", "file"}) {
    fs::Inode* inode = t.remember(name);
    ASSERT_NE(inode, nullptr);
    {
      auto in_use = t.table->descriptor(*inode);  // a handler that has replied, not yet returned
      ASSERT_TRUE(in_use);
      t.table->forget(*inode, 1);  // the kernel's FORGET, on another thread
      EXPECT_EQ(t.table->size(), 0U);
      struct stat st {};
      EXPECT_EQ(::fstat(in_use->get(), &st), 0) << name << ": closed under its user";
    }
    // Freed with the last pin, not put back on the list of idle descriptors.
    EXPECT_EQ(t.table->descriptors().cached(), 0U) << name;
  }
}

}  // namespace
}  // namespace zc::test
