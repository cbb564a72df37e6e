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

TEST(ServeTool, ASecondServerOnAServedPortFailsWithOneLineAndTheFirstKeepsServing) {
  ZC_REQUIRE_PROGRAM("curl");
  TempDir root;
  ASSERT_TRUE(write_file(root / "f.txt", "first\n"));
  ServeProcess first({tool_path(), "serve", root.path(), "--port", "0", "--threads", "2"});
  ASSERT_FALSE(first.url().empty()) << first.stderr_text();
  const std::string address = first.url().substr(7, first.url().size() - 8);  // "127.0.0.1:PORT"
  const std::string port = address.substr(address.rfind(':') + 1);
  TempDir other;
  ASSERT_TRUE(write_file(other / "f.txt", "second\n"));
  ServeProcess second({tool_path(), "serve", other.path(), "--port", port, "--threads", "2"});
  EXPECT_EQ(second.url(), "") << "a second server started: " << second.first_line();
  // Every request still reaches the first server: none is split off to another listener.
  for (int i = 0; i < 20; ++i) {
    const ProgramResult curl = run_program({"curl", "-sS", first.url() + "f.txt"});
    ASSERT_EQ(curl.exit_code, 0) << curl.out;
    EXPECT_EQ(curl.out, "first\n");
  }
  EXPECT_EQ(second.stop(), 1);
  const std::string err = second.stderr_text();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find(address), std::string::npos) << err;
  EXPECT_NE(err.find("already in use"), std::string::npos) << err;
}

TEST(ServeTool, RefusesAnUnknownMethodAndAMissingDirectory) {
  TempDir root;
  EXPECT_EQ(run_program({tool_path(), "serve", root.path(), "--method", "pigeon"}).exit_code, 2);
  EXPECT_NE(run_program({tool_path(), "serve", root / "missing"}).exit_code, 0);
  EXPECT_EQ(run_program({tool_path(), "serve"}).exit_code, 2);
}

}  // namespace
}  // namespace zc::test
