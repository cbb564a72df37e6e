// zcopy frames: two processes, a tick, a video that ffprobe reads, and precise usage errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "http/http_test_support.hpp"
#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"

namespace {

zc::test::CommandResult run_frames(const std::string& arguments) {
  return zc::test::run_command(zc::test::zcopy_tool() + " frames " + arguments + " 2>&1");
}

std::string scratch_path(const char* name) {
  return "/tmp/zcopy-frames-test-" + std::to_string(::getpid()) + "-" + name;
}

TEST(FramesCommand, fifo_shows_every_frame_untorn_and_reports_json) {
  ZC_REQUIRE_TOOL();
  const auto run = run_frames("--hz 120 --mode fifo --seconds 1 --size 64x32 --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("\"mode\":\"fifo\""), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\"dropped\":0,"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\"torn\":0,"), std::string::npos) << run.output;
}

TEST(FramesCommand, camera_frames_arrive_by_dma_and_every_read_is_bracketed) {
  ZC_REQUIRE_TOOL();
  const auto run = run_frames("--hz 60 --seconds 1 --size 256x64 --source camera --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("\"torn\":0,"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\"producer_exit\":0,"), std::string::npos) << run.output;
  const auto begins = run.output.find("\"cpu_access_begins\":");
  const auto ends = run.output.find("\"cpu_access_ends\":");
  ASSERT_NE(begins, std::string::npos);
  ASSERT_NE(ends, std::string::npos);
  const auto begun = std::stoull(run.output.substr(begins + 20));
  EXPECT_GT(begun, 0U);
  EXPECT_EQ(begun, std::stoull(run.output.substr(ends + 18)));
}

TEST(FramesCommand, realtime_runs_both_processes_under_sched_fifo) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_ROOT("for SCHED_FIFO");
  const auto run = run_frames("--realtime --hz 60 --seconds 0.5 --size 64x32 --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("\"realtime\":true"), std::string::npos) << run.output;
}

TEST(FramesCommand, the_video_of_the_shown_frames_reads_back_in_ffprobe) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("ffprobe");
  const std::string video = scratch_path("shown.y4m");
  const auto run = run_frames("--hz 50 --seconds 1 --size 160x90 --out " + video + " --json");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto at = run.output.find("\"video_frames\":");
  ASSERT_NE(at, std::string::npos) << run.output;
  const std::string frames = std::to_string(std::stoull(run.output.substr(at + 15)));
  const auto probe = zc::test::run_command(
      "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
      "stream=width,height,r_frame_rate,nb_read_frames -of csv=p=0 " +
      video + " 2>&1");
  ::unlink(video.c_str());
  ASSERT_EQ(probe.exit_code, 0) << probe.output;
  EXPECT_EQ(probe.output, "160,90,50/1," + frames + "\n");
  EXPECT_NE(frames, "0");
}

TEST(FramesCommand, a_failed_run_leaves_no_video_under_the_name_asked_for) {
  ZC_REQUIRE_TOOL();
  const std::string video = "/nonexistent-dir/shown.y4m";
  const auto run = run_frames("--seconds 1 --size 64x32 --out " + video);
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("shown.y4m.part"), std::string::npos) << run.output;
}

TEST(FramesCommand, a_bad_size_is_a_usage_error_naming_it) {
  ZC_REQUIRE_TOOL();
  const auto run = run_frames("--size 1920by1080");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("1920by1080"), std::string::npos) << run.output;
  const auto mode = run_frames("--mode triple");
  EXPECT_EQ(mode.exit_code, 2) << mode.output;
}

}  // namespace
