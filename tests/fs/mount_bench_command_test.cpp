// `zcopy mount bench` as a user runs it: the working-directory workloads on a small tree, each
// natively and through a mount, with the daemon's requests per operation (in all and by request)
// for the mount only.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

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

}  // namespace
}  // namespace zc::test
