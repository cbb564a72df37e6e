// On /dev/fuse a request wakes one idle worker: with all eight workers started and idle, a run of
// one request at a time costs about one voluntary sleep per request in all workers together,
// not one per idle worker. (A count, not a time: poll(2) on /dev/fuse wakes every waiter.)
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "fs/worker_privileges.hpp"
#include "mount_fixture.hpp"

namespace zc::test {
namespace {

struct Workers {
  std::size_t count = 0;
  std::uint64_t sleeps = 0;  // voluntary context switches, summed
};

// This process's FUSE worker threads (named kWorkerThreadName).
Workers workers() {
  Workers w;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    if (slurp(task.path().string() + "/comm") != std::string(fs::kWorkerThreadName) + "\n") {
      continue;
    }
    const std::string status = slurp(task.path().string() + "/status");
    const std::string key = "\nvoluntary_ctxt_switches:\t";
    const auto at = status.find(key);
    if (at == std::string::npos) continue;
    ++w.count;
    w.sleeps += std::stoull(status.substr(at + key.size()));
  }
  return w;
}

TEST(WorkerWakeups, OneRequestAtATimeWakesOneIdleWorkerEach) {
  ZC_REQUIRE_FUSE_MOUNT();
  MountFixture f;
  constexpr int kFiles = 64;
  for (int i = 0; i < kFiles; ++i) std::ofstream(f.src + "/f" + std::to_string(i)) << i;
  fs::MountOptions options;
  options.transport = fs::MountTransport::dev;
  options.cache_seconds = 0;  // every stat asks the daemon
  options.max_threads = 8;
  auto started = fs::Mount::start(f.src, f.mnt, options);
  ASSERT_TRUE(started) << started.error().message();
  f.mirror.emplace(std::move(*started));

  // Requests from many threads at once make libfuse start all its workers (eight, beside the
  // thread that started them, which carries the same name and sleeps throughout).
  for (int round = 0; round < 50 && workers().count < 9; ++round) {
    std::vector<std::thread> callers;
    for (int t = 0; t < 16; ++t) {
      callers.emplace_back([&, t] {
        struct stat st {};
        for (int i = 0; i < 200; ++i) {
          (void)::lstat((f.mnt + "/f" + std::to_string((t + i) % kFiles)).c_str(), &st);
        }
      });
    }
    for (auto& caller : callers) caller.join();
  }
  ASSERT_GE(workers().count, 8U);

  // Now one request at a time.
  const Workers before = workers();
  const std::uint64_t requests_before = f.mirror->stats().requests;
  struct stat st {};
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(::lstat((f.mnt + "/f" + std::to_string(i % kFiles)).c_str(), &st), 0);
  }
  const std::uint64_t requests = f.mirror->stats().requests - requests_before;
  const std::uint64_t sleeps = workers().sleeps - before.sleeps;
  ASSERT_GE(requests, 2000U);
  // One wake (and sleep) per request, with room for a few more; waking every idle worker would
  // give several per request.
  EXPECT_LT(sleeps, requests * 3 / 2) << sleeps << " sleeps for " << requests << " requests";
}

}  // namespace
}  // namespace zc::test
