// zcopy get stopped and resumed, as a user does it: the tool killed with SIGKILL, stopped with
// SIGINT or SIGTERM, then run again with --continue, against a python3 server that offers byte
// ranges with If-Range, validators or none, and answers that lie about Content-Range.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "client_test_servers.hpp"
#include "get_tool_process.hpp"
#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/client/download.hpp"
#include "zcopy/http/client/part_record.hpp"

namespace zc::http {
namespace {

using test::TempDir;
using test::ToolProcess;

// At least 1 MiB per range, or get would use fewer connections; not a multiple of four.
constexpr std::size_t kFileSize = 4 * kMiB + 4097;

std::uint64_t size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

// The record's bytes done, or 0 when there is no valid record.
std::uint64_t recorded(const std::string& output) {
  auto record = parse_part_record(test::read_file(record_path(output)));
  return record ? record->bytes_done() : 0;
}

test::CommandResult run_get(const std::string& args) {
  return test::run_command(test::zcopy_tool() + " get " + args + " 2>&1");
}

class GetResume : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_TOOL();
    std::filesystem::create_directories(dir_ / "www");
    test::write_random_file(dir_ / "www/data.bin", kFileSize, 31);
    server_ = test::start_range_server(dir_.path(), dir_ / "www");
    ASSERT_TRUE(server_.running()) << "the range server did not start; see " << dir_ / "python.log";
  }

  std::string url(const std::string& query = {}) const {
    return server_.url("/data.bin" + (query.empty() ? "" : "?" + query));
  }
  std::string output() const { return dir_ / "out.bin"; }
  std::string source() const { return test::read_file(dir_ / "www/data.bin"); }

  // Starts a slow download and stops it with `signal` once its record (saved every two seconds)
  // shows progress: a ranged .part has its full size from the start, so only the record tells.
  void interrupt(const std::vector<std::string>& extra, int signal, const std::string& query) {
    std::vector<std::string> args = {"get", "-o", output()};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(url(query));
    ToolProcess get(args, dir_.path());
    const bool started = test::eventually([&] { return recorded(output()) > 0; });
    ASSERT_TRUE(started) << "no progress was recorded: " << get.stderr_text();
    get.signal(signal);
    const int code = get.wait(std::chrono::seconds(20));
    stopped_stderr_ = get.stderr_text();
    if (signal == SIGKILL) {
      EXPECT_EQ(code, 128 + SIGKILL);
    } else {
      EXPECT_EQ(code, 1) << "stopped by signal " << signal << ": " << stopped_stderr_;
      EXPECT_NE(stopped_stderr_.find("interrupted by SIG"), std::string::npos) << stopped_stderr_;
      EXPECT_NE(stopped_stderr_.find("--continue"), std::string::npos) << stopped_stderr_;
    }
    ASSERT_FALSE(test::exists(output())) << "a stopped download must not look complete";
    ASSERT_TRUE(test::exists(part_path(output())));
  }

  TempDir dir_;
  test::ServerProcess server_;
  std::string stopped_stderr_;
};

TEST_F(GetResume, ParallelRangesKilledThenContinuedResumeEachRangeByteExact) {
  interrupt({"--parallel-ranges", "4"}, SIGKILL, "rate=262144");
  // The .part has the whole file's size from the start; only the record says what arrived.
  EXPECT_EQ(size_of(part_path(output())), kFileSize);
  const std::uint64_t kept = recorded(output());
  auto again = run_get("--continue --parallel-ranges 4 --json -o " + output() + " " + url());
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("\"resumed_from\":" + std::to_string(kept)), std::string::npos)
      << again.output;
  EXPECT_EQ(test::read_file(output()), source());
  EXPECT_FALSE(test::exists(part_path(output())));
  EXPECT_FALSE(test::exists(record_path(output())));
}

TEST_F(GetResume, SigintAndSigtermStopCleanlyAndContinueFinishes) {
  for (const int signal : {SIGINT, SIGTERM}) {
    SCOPED_TRACE(signal);
    for (const char* ranges : {"1", "4"}) {
      SCOPED_TRACE(ranges);
      interrupt({"--parallel-ranges", ranges}, signal, "rate=262144");
      const std::uint64_t kept = recorded(output());
      EXPECT_GT(kept, 0u) << "the stop saved no progress";
      // Both spellings of the flag resume.
      const std::string resume = signal == SIGINT ? "--continue" : "-c";
      auto again = run_get(resume + " --json --parallel-ranges " + std::string(ranges) + " -o " +
                           output() + " " + url());
      EXPECT_EQ(again.exit_code, 0) << again.output;
      EXPECT_NE(again.output.find("\"resumed_from\":" + std::to_string(kept)), std::string::npos)
          << again.output;
      EXPECT_EQ(test::read_file(output()), source());
      std::filesystem::remove(output());
    }
  }
}

TEST_F(GetResume, AFileThatChangedOnTheServerIsFetchedAgainFromTheStart) {
  for (const char* ranges : {"1", "4"}) {
    SCOPED_TRACE(ranges);
    test::write_random_file(dir_ / "www/data.bin", kFileSize, 32);
    interrupt({"--parallel-ranges", ranges}, SIGINT, "rate=262144");
    // The same URL now serves another file of the same size.
    test::write_random_file(dir_ / "www/data.bin", kFileSize, 33);
    auto again = run_get("--continue --parallel-ranges " + std::string(ranges) + " -o " + output() +
                         " " + url());
    EXPECT_EQ(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find("starting over"), std::string::npos) << again.output;
    EXPECT_EQ(test::read_file(output()), source()) << "old bytes were kept before new ones";
    std::filesystem::remove(output());
  }
}

TEST_F(GetResume, AServerWithoutValidatorsIsResumedBySizeAndTheNoteSaysSo) {
  interrupt({}, SIGINT, "novalidator&rate=524288");
  auto again = run_get("--continue -o " + output() + " " + url("novalidator"));
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("origin could not be verified"), std::string::npos) << again.output;
  EXPECT_EQ(test::read_file(output()), source());
}

TEST_F(GetResume, AContentRangeWithTheWrongTotalIsRefused) {
  interrupt({}, SIGINT, "rate=524288");
  auto again = run_get("--continue -o " + output() + " " + url("badtotal"));
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("/" + std::to_string(kFileSize + 1)), std::string::npos)
      << again.output;
  EXPECT_FALSE(test::exists(output()));
  EXPECT_TRUE(test::exists(part_path(output())));
}

TEST_F(GetResume, APartWithoutARecordIsNotResumedUnlessForced) {
  // A file that merely has the .part name: nothing says it came from this URL.
  const std::string whole = source();
  test::write_file_bytes(part_path(output()), whole.substr(0, kFileSize / 2));
  auto refused = run_get("--continue -o " + output() + " " + url());
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("no record of where it came from"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("--continue=force"), std::string::npos) << refused.output;
  EXPECT_EQ(std::count(refused.output.begin(), refused.output.end(), '\n'), 1) << refused.output;
  EXPECT_EQ(size_of(part_path(output())), kFileSize / 2) << "the refused .part was touched";
  EXPECT_FALSE(test::exists(output()));

  auto forced = run_get("--continue=force --json -o " + output() + " " + url());
  EXPECT_EQ(forced.exit_code, 0) << forced.output;
  EXPECT_NE(forced.output.find("\"resumed_from\":" + std::to_string(kFileSize / 2)),
            std::string::npos)
      << forced.output;
  EXPECT_NE(forced.output.find("could not be verified"), std::string::npos) << forced.output;
  EXPECT_EQ(test::read_file(output()), whole);

  auto bad = run_get("--continue=maybe -o " + output() + " " + url());
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

TEST_F(GetResume, ACorruptRecordIsRefusedWithItsReason) {
  test::write_file_bytes(part_path(output()), source().substr(0, 1000));
  test::write_file_bytes(record_path(output()),
                         "zcopy-part 1\nsize 4198401\nrange 0 4198400 99999999\nend\n");
  auto refused = run_get("--continue -o " + output() + " " + url());
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("claims 99999999 bytes done"), std::string::npos) << refused.output;
  EXPECT_FALSE(test::exists(output()));
}

TEST_F(GetResume, TwoUrlsThatWouldShareAPartAreAUsageError) {
  std::filesystem::copy_file(dir_ / "www/data.bin", dir_ / "www/data.bin.part");
  std::filesystem::create_directories(dir_ / "into");
  // data.bin downloads through data.bin.part, which the second URL would write as its output.
  auto clash =
      run_get("-j 2 -o " + dir_ / "into" + " " + url() + " " + server_.url("/data.bin.part"));
  EXPECT_EQ(clash.exit_code, 2) << clash.output;
  EXPECT_NE(clash.output.find("name the files apart"), std::string::npos) << clash.output;
  EXPECT_TRUE(std::filesystem::is_empty(dir_ / "into"));
}

TEST_F(GetResume, AResumedDownloadIsVerifiedOverTheWholeFile) {
  ZC_REQUIRE_PROGRAM("sha256sum");
  const auto sum = test::run_command("sha256sum " + dir_ / "www/data.bin");
  const std::string digest = "sha-256=" + sum.output.substr(0, 64);
  for (const char* ranges : {"1", "4"}) {
    SCOPED_TRACE(ranges);
    const std::string again = "--continue --parallel-ranges " + std::string(ranges) +
                              " --checksum " + digest + " -o " + output() + " " + url();
    // A byte of the kept part spoiled while the download was stopped: only a check of the whole
    // file, not of the bytes fetched after the resume, sees it.
    interrupt({"--parallel-ranges", ranges}, SIGINT, "rate=262144");
    {
      std::fstream part(part_path(output()), std::ios::in | std::ios::out | std::ios::binary);
      part.seekp(100);
      part.put(static_cast<char>(source()[100] ^ 1));
    }
    auto spoiled = run_get(again);
    EXPECT_EQ(spoiled.exit_code, 1) << spoiled.output;
    EXPECT_NE(spoiled.output.find("sha-256 mismatch"), std::string::npos) << spoiled.output;
    EXPECT_FALSE(test::exists(output()));

    interrupt({"--parallel-ranges", ranges}, SIGINT, "rate=262144");
    auto good = run_get(again);
    EXPECT_EQ(good.exit_code, 0) << good.output;
    EXPECT_NE(good.output.find("sha-256 verified"), std::string::npos) << good.output;
    EXPECT_EQ(test::read_file(output()), source());
    std::filesystem::remove(output());
  }
}

TEST_F(GetResume, ATrickleFailsWithinAboutTheTimeout) {
  ToolProcess get({"get", "--timeout", "2", "-o", output(), url("trickle")}, dir_.path());
  // A 1-byte-per-half-second body would take hours; the stall rule ends it after ~2 s. The bound
  // only catches a transfer that never stops.
  const int code = get.wait(std::chrono::seconds(60));
  EXPECT_EQ(code, 1) << get.stderr_text();
  EXPECT_NE(get.stderr_text().find("stalled"), std::string::npos) << get.stderr_text();
  EXPECT_FALSE(test::exists(output()));
}

}  // namespace
}  // namespace zc::http
