// zcopy get against `python3 -m http.server` (HTTP/1.0, no ranges), through the library and
// through the zcopy tool itself.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

#include "client_test_servers.hpp"
#include "support/sanitizer.hpp"
#include "support/shell_command.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/client/download.hpp"

namespace zc::http {
namespace {

using test::TempDir;

const std::size_t kFileSize = test::kSanitized ? 2 * kMiB : 8 * kMiB;

class GetFromPython : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_ / "www");
    test::write_random_file(dir_ / "www/data.bin", kFileSize, 21);
    server_ = test::start_python(
        dir_.path(), {"-m", "http.server", "--bind", "127.0.0.1", "--directory", dir_ / "www"});
    ASSERT_TRUE(server_.running()) << "python3 -m http.server did not start";
  }

  TempDir dir_;
  test::ServerProcess server_;
};

// Runs the zcopy tool with `args`; returns {exit status, stdout + stderr}.
std::pair<int, std::string> run_tool(const std::string& args) {
  const char* tool = std::getenv("ZCOPY_TOOL");
  if (tool == nullptr) return {-1, "ZCOPY_TOOL is not set"};
  auto run = test::run_command(std::string(tool) + " " + args + " 2>&1");
  return {run.exit_code, std::move(run.output)};
}

TEST_F(GetFromPython, DownloadIsByteExact) {
  DownloadOptions o;
  o.output = dir_ / "out.bin";
  auto r = download(*parse_url(server_.url("/data.bin")), o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(test::read_file(dir_ / "out.bin"), test::read_file(dir_ / "www/data.bin"));
}

TEST_F(GetFromPython, ContinueAgainstAServerWithoutRangesStartsOverAndSaysSo) {
  std::ofstream(dir_ / "out.bin.part") << "stale bytes that must not survive";
  DownloadOptions o;
  o.output = dir_ / "out.bin";
  o.resume = true;
  o.force_resume = true;
  auto r = download(*parse_url(server_.url("/data.bin")), o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->resumed_from, 0u);
  EXPECT_NE(r->note.find("ignored the Range request"), std::string::npos) << r->note;
  EXPECT_EQ(test::read_file(dir_ / "out.bin"), test::read_file(dir_ / "www/data.bin"));
}

TEST_F(GetFromPython, ToolDownloadsAndPrintsAJsonLedger) {
  auto [status, output] =
      run_tool("get --json -o " + dir_ / "tool.bin" + " " + server_.url("/data.bin"));
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("\"bench\":\"get\""), std::string::npos) << output;
  EXPECT_NE(output.find("\"bytes_zero_copy\":"), std::string::npos) << output;
  EXPECT_EQ(test::read_file(dir_ / "tool.bin"), test::read_file(dir_ / "www/data.bin"));
}

TEST_F(GetFromPython, ToolNamesTheFileAfterTheUrlAndSummarisesInOneLine) {
  std::filesystem::copy_file(dir_ / "www/data.bin", dir_ / "www/copy.bin");
  auto [status, output] = run_tool("get -j 2 -o " + dir_.path() + " " + server_.url("/data.bin") +
                                   " " + server_.url("/copy.bin"));
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("zero-copy"), std::string::npos) << output;
  EXPECT_EQ(test::read_file(dir_ / "data.bin"), test::read_file(dir_ / "www/data.bin"));
  EXPECT_EQ(test::read_file(dir_ / "copy.bin"), test::read_file(dir_ / "www/data.bin"));
  // Two URLs that would write one file are refused before anything starts.
  auto [clash_status, clash_output] =
      run_tool("get -o " + dir_.path() + " " + server_.url("/data.bin") + " " +
               server_.url("/data.bin?again"));
  EXPECT_EQ(clash_status, 2);
  EXPECT_NE(clash_output.find("name the files apart"), std::string::npos) << clash_output;
}

TEST_F(GetFromPython, ParallelRangesFromAServerWithoutRangesUseOneStream) {
  DownloadOptions o;
  o.output = dir_ / "out.bin";
  o.parallel_ranges = 4;
  auto r = download(*parse_url(server_.url("/data.bin")), o);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_NE(r->note.find("no byte ranges"), std::string::npos) << r->note;
  EXPECT_EQ(test::read_file(dir_ / "out.bin"), test::read_file(dir_ / "www/data.bin"));
}

TEST_F(GetFromPython, ToolReadsUrlsFromAList) {
  std::filesystem::copy_file(dir_ / "www/data.bin", dir_ / "www/second.bin");
  std::ofstream(dir_ / "urls.txt") << "# two files\n"
                                   << server_.url("/data.bin") << "\n\n"
                                   << server_.url("/second.bin") << "\n";
  std::filesystem::create_directories(dir_ / "into");
  auto [status, output] = run_tool("get -j 2 -i " + dir_ / "urls.txt" + " -o " + dir_ / "into");
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(test::read_file(dir_ / "into/data.bin"), test::read_file(dir_ / "www/data.bin"));
  EXPECT_EQ(test::read_file(dir_ / "into/second.bin"), test::read_file(dir_ / "www/data.bin"));
}

TEST(GetTool, FailuresExitWithOneClearLine) {
  auto [scheme_status, scheme_output] = run_tool("get ftp://127.0.0.1/x");
  EXPECT_EQ(scheme_status, 2);  // what the user typed cannot be fetched: a usage error
  EXPECT_NE(scheme_output.find("unsupported scheme"), std::string::npos) << scheme_output;
  const std::uint16_t port = test::free_port();
  auto [refused_status, refused_output] =
      run_tool("get -o /dev/null http://127.0.0.1:" + std::to_string(port) + "/x");
  EXPECT_EQ(refused_status, 1);
  EXPECT_NE(refused_output.find("Connection refused"), std::string::npos) << refused_output;
  auto [method_status, method_output] = run_tool("get --method sendfile http://127.0.0.1:1/x");
  EXPECT_EQ(method_status, 2);
  EXPECT_NE(method_output.find("use splice"), std::string::npos) << method_output;
}

}  // namespace
}  // namespace zc::http
