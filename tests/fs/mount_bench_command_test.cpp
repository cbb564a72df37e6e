// `zcopy mount bench` as a user runs it: the working-directory workloads on a small tree, each
// natively and through a mount, with the daemon's requests per operation (in all and by request)
// for the mount only.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "mount_fixture.hpp"
#include "uring_parameter.hpp"

namespace zc::test {
namespace {

TEST(MountBenchCommand, WorkloadsReportEachStepNativelyAndThroughTheMount) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_TOOL();
  MountFixture f;
  const std::string tree = f.dir() + "/tree";
  ASSERT_EQ(::mkdir(tree.c_str(), 0755), 0);
  for (int i = 0; i < 20; ++i) std::ofstream(tree + "/f" + std::to_string(i)) << i;
  const Shell bench =
      sh(zcopy_tool() + " mount bench --no-reads --no-fio --modes copy --tree " + tree +
         " --write-size 64K --workload-repeats 1 --dir " + f.dir() + " --json 2>&1");
  ASSERT_EQ(bench.status, 0) << bench.output;
  for (const char* workload : {"untar", "stat", "read-all", "rm", "write-4k"}) {
    const std::string bench_name = std::string("\"bench\":\"mount-") + workload + "\"";
    std::size_t rows = 0;
    std::size_t with_requests = 0;
    for (std::size_t at = bench.output.find(bench_name); at != std::string::npos;
         at = bench.output.find(bench_name, at + 1)) {
      const std::string line = bench.output.substr(at, bench.output.find('\n', at) - at);
      ++rows;
      with_requests += line.find("\"requests_per_op\"") != std::string::npos;
    }
    EXPECT_EQ(rows, 2U) << workload << "\n" << bench.output;  // native and copy
    EXPECT_EQ(with_requests, 1U) << workload << "\n" << bench.output;
  }
  EXPECT_NE(bench.output.find("\"method\":\"copy\""), std::string::npos) << bench.output;
  // Each file untarred is created through the mount, and each 4 KiB write is a WRITE in copy
  // mode.
  for (const char* mix : {"\"requests_by_operation\":\"LOOKUP", "CREATE 0.", "WRITE 1.00"}) {
    EXPECT_NE(bench.output.find(mix), std::string::npos) << mix << "\n" << bench.output;
  }
}

// Both transports in one run, each mode's rows named MODE/TRANSPORT.
TEST(MountBenchCommand, TransportsRunSideBySide) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_URING_PARAMETER();
  UringParameter on(true);
  ASSERT_TRUE(on.set());
  MountFixture f;
  const std::string tree = f.dir() + "/tree";
  ASSERT_EQ(::mkdir(tree.c_str(), 0755), 0);
  for (int i = 0; i < 20; ++i) std::ofstream(tree + "/f" + std::to_string(i)) << i;
  const Shell bench =
      sh(zcopy_tool() +
         " mount bench --no-reads --no-fio --modes copy --transports dev,uring "
         "--tree " +
         tree + " --write-size 64K --workload-repeats 1 --dir " + f.dir() + " --json 2>&1");
  ASSERT_EQ(bench.status, 0) << bench.output;
  for (const char* method : {"copy/dev", "copy/uring"}) {
    EXPECT_NE(
        bench.output.find(std::string("\"bench\":\"mount-rm\",\"method\":\"") + method + "\""),
        std::string::npos)
        << method << "\n"
        << bench.output;
  }
}

// Mounts under `dir` (/proc/self/mountinfo), and loop devices backed by a file under it.
std::string left_under(const std::string& dir) {
  std::string left;
  const std::string mounts = slurp("/proc/self/mountinfo");
  for (std::size_t at = mounts.find(dir); at != std::string::npos; at = mounts.find(dir, at + 1))
    left += "mount: " + mounts.substr(at, mounts.find('\n', at) - at) + "\n";
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/sys/block", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string backing = slurp(it->path().string() + "/loop/backing_file");
    if (backing.find(dir) != std::string::npos) left += "loop device: " + backing;
  }
  return left;
}

Shell bench_on_small_tree(MountFixture& f, const std::string& extra) {
  const std::string tree = f.dir() + "/tree";
  ::mkdir(tree.c_str(), 0755);
  for (int i = 0; i < 20; ++i) std::ofstream(tree + "/f" + std::to_string(i)) << i;
  return sh(zcopy_tool() + " mount bench --no-reads --no-fio --modes copy --tree " + tree +
            " --write-size 64K --workload-repeats 2 --dir " + f.dir() + " --json " + extra +
            " 2>&1");
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// By default every method and repeat runs on a fresh ext4 of its own, taken down afterwards;
// --no-scratch-fs runs in --dir as before.
TEST(MountBenchCommand, StepsRunOnFreshFileSystemsUnlessToldToUseTheDirectory) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("mkfs.ext4");
  MountFixture f;
  const Shell fresh = bench_on_small_tree(f, "");
  ASSERT_EQ(fresh.status, 0) << fresh.output;
  EXPECT_EQ(count(fresh.output, "\"scratch_fs\":true"), 10U) << fresh.output;
  EXPECT_EQ(left_under(f.dir()), "");
  const Shell in_dir = bench_on_small_tree(f, "--no-scratch-fs");
  ASSERT_EQ(in_dir.status, 0) << in_dir.output;
  EXPECT_EQ(count(in_dir.output, "\"scratch_fs\":false"), 10U) << in_dir.output;
}

// Ctrl-C ends the run between two steps, with the scratch file system and the mount taken down.
TEST(MountBenchCommand, InterruptedRunLeavesNoMountOrLoopDevice) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("mkfs.ext4");
  MountFixture f;
  const std::string tree = f.dir() + "/tree";
  ASSERT_EQ(::mkdir(tree.c_str(), 0755), 0);
  for (int i = 0; i < 200; ++i) std::ofstream(tree + "/f" + std::to_string(i)) << i;
  auto bench = bench::Process::spawn(
      {zcopy_tool(), "mount", "bench", "--no-reads", "--no-fio", "--modes", "copy", "--tree", tree,
       "--write-size", "64K", "--workload-repeats", "100", "--dir", f.dir()},
      {.out = bench::Output::null, .err = bench::Output::null, .own_group = true});
  ASSERT_TRUE(bench.has_value()) << bench.error().message();
  // Until a scratch file system is mounted (a run of 100 repeats takes far longer).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (slurp("/proc/self/mountinfo").find(f.dir() + "/zcopy-mount-workloads") ==
             std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_NE(slurp("/proc/self/mountinfo").find(f.dir() + "/zcopy-mount-workloads"),
            std::string::npos);
  bench->signal(SIGINT);  // to its group, as a terminal does
  const bench::Exit ended = bench->wait();
  EXPECT_EQ(ended.code, 1);
  EXPECT_EQ(left_under(f.dir()), "");
}

}  // namespace
}  // namespace zc::test
