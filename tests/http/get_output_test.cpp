// What `zcopy get` prints: text a server chose never reaches the terminal raw, --json stays valid
// JSON, and with -j each file's CPU figure is its own.
#include <gtest/gtest.h>

#include <filesystem>

#include "client_test_servers.hpp"
#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"
#include "zcopy/core/units.hpp"

namespace zc::http {
namespace {

using test::TempDir;

// Whether `text` holds a byte a terminal could obey: a C0 control other than newline, DEL, or a
// C1 control (raw, or encoded in UTF-8 as C2 80..9F).
bool has_control(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if ((byte < 0x20 && byte != '\n') || byte == 0x7f || (byte >= 0x80 && byte <= 0x9f)) {
      if (byte >= 0x80 && i > 0 && static_cast<unsigned char>(text[i - 1]) != 0xc2 &&
          static_cast<unsigned char>(text[i - 1]) >= 0xc0) {
        continue;  // a continuation byte of a longer sequence
      }
      return true;
    }
  }
  return false;
}

class GetOutput : public ::testing::Test {
 protected:
  void SetUp() override {
    ZC_REQUIRE_TOOL();
    std::filesystem::create_directories(dir_ / "www");
    server_ = test::start_range_server(dir_.path(), dir_ / "www");
    ASSERT_TRUE(server_.running()) << "the range server did not start; see " << dir_ / "python.log";
  }
  TempDir dir_;
  test::ServerProcess server_;
};

TEST_F(GetOutput, ServerChosenTextIsShownEscaped) {
  // A file whose name (from the URL) is ESC [ 2 J, a UTF-8 C1 CSI and a lone 0x9B.
  const std::string name = "\x1b[2Jevil\xc2\x9b\x9b";
  test::write_random_file(dir_ / ("www/" + name), 1000, 41);
  const std::string url = server_.url("/%1b%5b2Jevil%c2%9b%9b");
  std::filesystem::create_directories(dir_ / "into");
  auto plain = test::run_command(test::zcopy_tool() + " get -o " + dir_ / "into" + " '" + url +
                                 "' '" + url + "?x' 2>&1");
  // Two URLs naming one file: the refusal names it, escaped.
  EXPECT_EQ(plain.exit_code, 2) << plain.output;
  EXPECT_NE(plain.output.find("\\x1b[2Jevil\\xc2\\x9b\\x9b"), std::string::npos) << plain.output;
  EXPECT_FALSE(has_control(plain.output)) << plain.output;

  auto fetched =
      test::run_command(test::zcopy_tool() + " get -o " + dir_ / "into" + " '" + url + "' 2>&1");
  EXPECT_EQ(fetched.exit_code, 0) << fetched.output;
  EXPECT_NE(fetched.output.find("\\x1b[2J"), std::string::npos) << fetched.output;
  EXPECT_FALSE(has_control(fetched.output)) << fetched.output;
  EXPECT_TRUE(test::exists(dir_ / ("into/" + name)));

  // --json on stdout: every line must be valid (UTF-8) JSON.
  auto json =
      test::run_command(test::zcopy_tool() + " get --json -o " + dir_ / "into" + " '" + url +
                        "' 2>/dev/null | python3 -c 'import json,sys\n"
                        "for line in sys.stdin.buffer: json.loads(line)\n"
                        "print(\"valid\")'");
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(json.output, "valid\n");

  // A reason phrase with C1 controls in an error.
  auto refused = test::run_command(test::zcopy_tool() + " get -o " + dir_ / "x '" +
                                   server_.url("/data?badreason") + "' 2>&1");
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("HTTP 404 \\x9b31mgone\\xc2\\x9b2J"), std::string::npos)
      << refused.output;
  EXPECT_FALSE(has_control(refused.output)) << refused.output;
}

double json_number(const std::string& line, const std::string& key) {
  const std::size_t at = line.find("\"" + key + "\":");
  return at == std::string::npos ? -1 : std::strtod(line.c_str() + at + key.size() + 3, nullptr);
}

TEST_F(GetOutput, EachFileOfABatchCountsOnlyItsOwnCpu) {
  // One slow small file and one fast large one fetched side by side: the small one's run spans
  // the large one's whole transfer, so a whole-process figure would give it all of that CPU.
  test::write_random_file(dir_ / "www/slow.bin", 200 * 1024, 42);
  test::write_random_file(dir_ / "www/big.bin", 96 * kMiB, 43);
  auto run = test::run_command(test::zcopy_tool() + " get -j 2 --json --method copy -o " +
                               dir_.path() + " '" + server_.url("/slow.bin?rate=102400") + "' " +
                               server_.url("/big.bin"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::size_t split = run.output.find('\n');
  ASSERT_NE(split, std::string::npos) << run.output;
  const std::string slow = run.output.substr(0, split);
  const std::string big = run.output.substr(split + 1);
  ASSERT_NE(slow.find("slow.bin"), std::string::npos) << run.output;
  // CPU seconds, from the fields every version prints.
  const double slow_cpu = json_number(slow, "cpu_s_per_gb") * json_number(slow, "size_bytes") / 1e9;
  const double big_cpu = json_number(big, "cpu_s_per_gb") * json_number(big, "size_bytes") / 1e9;
  EXPECT_GT(big_cpu, 0.0) << big;
  EXPECT_LT(slow_cpu, big_cpu / 2) << "the slow file was charged the other file's CPU:\n"
                                   << run.output;
}

}  // namespace
}  // namespace zc::http
