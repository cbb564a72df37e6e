#include "zcopy/core/daemon.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace zc {
namespace {

// A path of its own per test, removed afterwards.
class StartDaemon : public ::testing::Test {
 protected:
  void SetUp() override {
    marker_ = (std::filesystem::temp_directory_path() /
               ("zcopy-daemon-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                  .string();
    std::filesystem::remove(marker_);
  }
  void TearDown() override { std::filesystem::remove(marker_); }

  // Waits up to 10 s for the marker: serving takes milliseconds, a daemon that never serves
  // never writes it.
  bool marker_appears() const {
    for (int i = 0; i < 1000; ++i) {
      if (std::filesystem::exists(marker_) && std::filesystem::file_size(marker_) > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::string marker_;
};

TEST_F(StartDaemon, ReturnsTheStartedLineThenServesInASessionOfItsOwn) {
  const std::string marker = marker_;
  auto line = start_daemon(
      "test daemon", []() -> Result<std::string> { return "serving on port 1"; },
      [marker] { std::ofstream(marker) << ::getpid() << ' ' << ::getsid(0) << '\n'; });
  ASSERT_TRUE(line.has_value()) << line.error().message();
  EXPECT_EQ(*line, "serving on port 1");
  ASSERT_TRUE(marker_appears());
  pid_t pid = 0;
  pid_t session = 0;
  std::ifstream(marker_) >> pid >> session;
  EXPECT_NE(pid, ::getpid());
  EXPECT_EQ(session, pid);  // setsid(): the daemon leads a session of its own
  EXPECT_NE(session, ::getsid(0));
}

TEST_F(StartDaemon, AFailedStartIsReturnedWithItsCodeAndMessageAndNothingServes) {
  const std::string marker = marker_;
  auto line = start_daemon(
      "test daemon",
      []() -> Result<std::string> {
        return fail(Errc::capability_missing, "mount", "FUSE is not available here");
      },
      [marker] { std::ofstream(marker) << "served\n"; });
  ASSERT_FALSE(line.has_value());
  EXPECT_EQ(line.error().code(), Errc::capability_missing);
  EXPECT_NE(line.error().message().find("FUSE is not available here"), std::string::npos)
      << line.error().message();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(std::filesystem::exists(marker_));
}

TEST_F(StartDaemon, AChildThatDiesBeforeAnsweringIsAnErrorNamedAfterTheDaemon) {
  auto line = start_daemon(
      "test daemon", []() -> Result<std::string> { ::_exit(3); }, [] {});
  ASSERT_FALSE(line.has_value());
  EXPECT_EQ(line.error().code(), Errc::closed);
  EXPECT_NE(line.error().message().find("test daemon"), std::string::npos)
      << line.error().message();
}

}  // namespace
}  // namespace zc
