// Real programs on the mirror, in every mode: cp, cat, dd, sha256sum, tar, sqlite3, git, fio.
#include <gtest/gtest.h>

#include <string>

#include "mount_fixture.hpp"
#include "support/sanitizer.hpp"

namespace zc::test {
namespace {

class RealPrograms : public ::testing::TestWithParam<fs::MountMode> {
 protected:
  void SetUp() override {
    ZC_REQUIRE_FUSE_MOUNT();
    if (GetParam() == fs::MountMode::passthrough) {
      ZC_REQUIRE_CAPABILITY(Capability::fuse_passthrough);
    }
    ASSERT_TRUE(f_.mount(GetParam())) << f_.error;
    ASSERT_EQ(f_.mirror->active_mode(), GetParam()) << f_.mirror->fallback_reason();
  }

  // Runs `command` in MNT and expects it to succeed.
  std::string run(const std::string& command) {
    const Shell result = sh("cd " + f_.mnt + " && " + command);
    EXPECT_EQ(result.status, 0) << command << "\n" << result.output;
    return result.output;
  }

  MountFixture f_;
};

TEST_P(RealPrograms, CpCatDdAndSha256sumSeeTheSameBytes) {
  const std::string mib = std::to_string(scaled(40) + 4);
  // dd writes through the mount; cp copies within it; cat and sha256sum read back.
  run("dd if=/dev/urandom of=" + f_.src + "/orig bs=1M count=" + mib + " status=none");
  run("dd if=orig of=dd_copy bs=64k status=none");
  run("cp orig cp_copy");
  run("cat cp_copy > cat_copy");
  const std::string sums = run("sha256sum orig dd_copy cp_copy cat_copy | cut -d' ' -f1 | uniq");
  EXPECT_EQ(sums.size(), 65U) << sums;  // one distinct digest
  // The source sees what was written through the mount.
  EXPECT_EQ(sh("cmp " + f_.src + "/orig " + f_.src + "/cat_copy").status, 0);
  // Partial writes in the middle of a file.
  run("dd if=/dev/zero of=cp_copy bs=4k seek=3 count=5 conv=notrunc status=none");
  run("dd if=/dev/zero of=" + f_.src + "/orig bs=4k seek=3 count=5 conv=notrunc status=none");
  EXPECT_EQ(sh("cmp " + f_.src + "/orig " + f_.mnt + "/cp_copy").status, 0);
}

TEST_P(RealPrograms, TarPacksAndUnpacksATree) {
  run("mkdir -p " + f_.dir() + "/tree/a/b/c && cd " + f_.dir() +
      "/tree && for i in 1 2 3 4 5; do head -c $((i * 5000)) /dev/urandom > a/f$i; done && "
      "ln -s a/f1 link && ln a/f2 a/b/hard && chmod 640 a/f3 && touch -d 2001-01-01 a/f4");
  // POSIX (pax) archives keep nanosecond times, so the listings below can compare them.
  run("tar --format=posix -C " + f_.dir() + "/tree -cf - . | tar -xpf -");  // in
  run("tar --format=posix -cf " + f_.dir() + "/out.tar . && mkdir -p " + f_.dir() +
      "/back && tar -C " + f_.dir() + "/back -xpf " + f_.dir() + "/out.tar");  // out
  EXPECT_EQ(sh("diff -r --no-dereference " + f_.dir() + "/tree " + f_.dir() + "/back").status, 0);
  const std::string listing_native =
      sh("cd " + f_.dir() + "/tree && find . -printf '%p %y %m %n %s %T@ %l\\n' | sort").output;
  const std::string listing_mount =
      sh("cd " + f_.mnt + " && find . -printf '%p %y %m %n %s %T@ %l\\n' | sort").output;
  EXPECT_EQ(listing_native, listing_mount);
}

TEST_P(RealPrograms, Sqlite3CreatesAndQueriesADatabase) {
  run("sqlite3 db.sqlite 'create table t(id integer primary key, v text);'");
  run("sqlite3 db.sqlite \"with recursive c(x) as (select 1 union all select x+1 from c where "
      "x < 2000) insert into t(v) select printf('value-%d', x) from c;\"");
  run("sqlite3 db.sqlite 'pragma journal_mode=wal; update t set v = v || \"!\" where id % 3 = 0;'");
  EXPECT_EQ(run("sqlite3 db.sqlite 'select count(*), sum(length(v)) from t where v like \"%!\";'"),
            "666|6957\n");
  EXPECT_EQ(run("sqlite3 db.sqlite 'pragma integrity_check;'"), "ok\n");
}

TEST_P(RealPrograms, GitInitAddCommit) {
  run("git init -q repo && cd repo && git config user.email t@example.invalid && "
      "git config user.name zcopy && for i in 1 2 3; do echo line$i > file$i; done && "
      "git add . && git commit -q -m first && echo more >> file2 && git commit -qam second");
  EXPECT_EQ(run("cd repo && git log --oneline | wc -l"), "2\n");
  EXPECT_EQ(run("cd repo && git fsck --strict 2>&1 | grep -c error || true"), "0\n");
  EXPECT_EQ(run("cd repo && git status --porcelain"), "");
}

TEST_P(RealPrograms, FioRandomWritesVerifyAndRandomReads) {
  const std::string size = std::to_string(kSanitized ? 2 : 8) + "m";
  run("fio --name=w --filename=fio.dat --size=" + size +
      " --bs=4k --rw=randwrite --ioengine=psync --verify=crc32c --do_verify=1 "
      "--output=/dev/null");
  run("fio --name=r --filename=fio.dat --size=" + size +
      " --bs=4k --rw=randread --ioengine=psync --output=/dev/null");
  run("fio --name=rw --filename=fio.dat --size=" + size +
      " --bs=16k --rw=randrw --ioengine=psync --fsync=8 --output=/dev/null");
}

INSTANTIATE_TEST_SUITE_P(Modes, RealPrograms,
                         ::testing::Values(fs::MountMode::passthrough, fs::MountMode::splice,
                                           fs::MountMode::copy),
                         mode_name);

}  // namespace
}  // namespace zc::test
