// `zcopy serve` as a command: the URL line, the access log file, clean stops, usage errors.
#include <gtest/gtest.h>

#include "http_test_support.hpp"
#include "serve_process.hpp"

namespace zc::test {
namespace {

TEST(ServeTool, PrintsItsUrlServesAndStopsCleanlyOnSigtermAndSigint) {
  ZC_REQUIRE_PROGRAM("curl");
  TempDir root;
  TempDir logs;
  ASSERT_TRUE(write_file(root / "f.txt", "tool test\n"));
  for (const int signal : {SIGTERM, SIGINT}) {
    ServeProcess serve(
        {tool_path(), "serve", root.path(), "--port", "0", "--access-log", logs / "access"});
    ASSERT_EQ(serve.first_line().rfind("serving " + root.path() + " at http://127.0.0.1:", 0), 0U)
        << serve.first_line();
    const ProgramResult curl = run_program({"curl", "-sS", serve.url() + "f.txt"});
    EXPECT_EQ(curl.exit_code, 0);
    EXPECT_EQ(curl.out, "tool test\n");
    EXPECT_EQ(serve.stop(signal), 0);
    const std::string err = serve.stderr_text();
    EXPECT_NE(err.find(signal == SIGTERM ? "stopped by SIGTERM" : "stopped by SIGINT"),
              std::string::npos)
        << err;
    EXPECT_NE(err.find("10 B zero-copy"), std::string::npos) << err;
  }
  const std::string log = read_file(logs / "access");
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 2) << log;
  EXPECT_NE(log.find("\"GET /f.txt HTTP/1.1\" 200 10"), std::string::npos) << log;
}

TEST(ServeTool, RefusesAnUnknownMethodAndAMissingDirectory) {
  TempDir root;
  EXPECT_EQ(run_program({tool_path(), "serve", root.path(), "--method", "pigeon"}).exit_code, 2);
  EXPECT_NE(run_program({tool_path(), "serve", root / "missing"}).exit_code, 0);
  EXPECT_EQ(run_program({tool_path(), "serve"}).exit_code, 2);
}

}  // namespace
}  // namespace zc::test
