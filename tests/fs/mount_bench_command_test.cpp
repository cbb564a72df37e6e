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

#include "bench/fs/fuse_peer.hpp"
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
      sh(zcopy_tool() + " mount bench --no-reads --no-fio --modes copy --no-peer --tree " + tree +
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
         " mount bench --no-reads --no-fio --modes copy --transports dev,uring --no-peer "
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

Shell bench_on_small_tree(MountFixture& f, const std::string& extra, unsigned repeats = 2) {
  const std::string tree = f.dir() + "/tree";
  ::mkdir(tree.c_str(), 0755);
  for (int i = 0; i < 20; ++i) std::ofstream(tree + "/f" + std::to_string(i)) << i;
  return sh(zcopy_tool() + " mount bench --no-reads --no-fio --modes copy --tree " + tree +
            " --write-size 64K --workload-repeats " + std::to_string(repeats) + " --dir " +
            f.dir() + " " + extra + " 2>&1");
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
  const Shell fresh = bench_on_small_tree(f, "--json --no-peer");
  ASSERT_EQ(fresh.status, 0) << fresh.output;
  EXPECT_EQ(count(fresh.output, "\"scratch_fs\":true"), 10U) << fresh.output;
  EXPECT_EQ(left_under(f.dir()), "");
  const Shell in_dir = bench_on_small_tree(f, "--json --no-peer --no-scratch-fs");
  ASSERT_EQ(in_dir.status, 0) << in_dir.output;
  EXPECT_EQ(count(in_dir.output, "\"scratch_fs\":false"), 10U) << in_dir.output;
}

// libfuse's passthrough_ll, built from libfuse3-dev's example sources, runs each workload beside
// the mirror on its own fresh ext4, with how it was run in its records and no requests per
// operation (its requests are not counted); its mount and file system are gone afterwards.
TEST(MountBenchCommand, LibfusePassthroughLlRunsEachWorkloadBesideTheMirror) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("mkfs.ext4");
  ZC_REQUIRE_PROGRAM("cc");
  ZC_REQUIRE_PROGRAM("pkg-config");
  const std::string source = std::string(bench::kFuseExamplesDir) + "/passthrough_ll.c";
  if (!std::filesystem::exists(source))
    ZC_SKIP_BECAUSE("needs " + source + " (libfuse3-dev; scripts/install-deps.sh installs it)");
  MountFixture f;
  const Shell bench = bench_on_small_tree(f, "--json", 1);
  ASSERT_EQ(bench.status, 0) << bench.output;
  for (const char* workload : {"untar", "stat", "read-all", "rm", "write-4k"}) {
    const std::string name =
        std::string("\"bench\":\"mount-") + workload + "\",\"method\":\"passthrough_ll\"";
    const std::size_t at = bench.output.find(name);
    ASSERT_NE(at, std::string::npos) << workload << "\n" << bench.output;
    const std::string line = bench.output.substr(at, bench.output.find('\n', at) - at);
    EXPECT_EQ(count(bench.output, name), 1U) << workload << "\n" << bench.output;
    EXPECT_EQ(line.find("\"requests_per_op\""), std::string::npos) << line;
    EXPECT_NE(line.find("passthrough_ll -f -o source=SRC -o timeout=1 MNT"), std::string::npos)
        << line;
  }
  EXPECT_EQ(bench.output.find("\"skipped\""), std::string::npos) << bench.output;
  EXPECT_EQ(left_under(f.dir()), "");
}

// Without the example's source the peer is left out with one line saying why, and the rest runs.
TEST(MountBenchCommand, PeerWithoutItsSourceIsSkippedWithTheReason) {
  ZC_REQUIRE_FUSE_MOUNT();
  ZC_REQUIRE_TOOL();
  MountFixture f;
  const std::string empty = f.dir() + "/no-examples";
  ASSERT_EQ(::mkdir(empty.c_str(), 0755), 0);
  const std::string reason = "no " + empty + "/passthrough_ll.c (libfuse3-dev ships it)";
  const Shell text = bench_on_small_tree(f, "--no-scratch-fs --fuse-examples " + empty, 1);
  ASSERT_EQ(text.status, 0) << text.output;
  EXPECT_NE(text.output.find("\npassthrough_ll skipped: " + reason + "\n"), std::string::npos)
      << text.output;
  const Shell json = bench_on_small_tree(f, "--json --no-scratch-fs --fuse-examples " + empty, 1);
  ASSERT_EQ(json.status, 0) << json.output;
  EXPECT_NE(json.output.find("{\"bench\":\"mount-peer\",\"method\":\"passthrough_ll\","),
            std::string::npos)
      << json.output;
  EXPECT_NE(json.output.find("\"skipped\":\"" + reason + "\""), std::string::npos) << json.output;
  EXPECT_EQ(count(json.output, "\"method\":\"passthrough_ll\""), 1U) << json.output;
  EXPECT_EQ(count(json.output, "\"bench\":\"mount-untar\""), 2U) << json.output;
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
