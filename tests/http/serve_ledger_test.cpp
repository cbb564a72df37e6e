// `zcopy serve --ledger-json`: the server reports its own copy ledger as a JSON line whenever
// SIGUSR1 asks and once more at the stop, so a benchmark reads what the server measured.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/support/json_fields.hpp"
#include "bench/support/serve_process.hpp"
#include "http_test_support.hpp"
#include "serve_process.hpp"

namespace zc::test {
namespace {

constexpr std::size_t kFileBytes = 3 << 20;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

double bytes_of(const std::string& record) {
  return bench::number_field(record, "size_bytes").value_or(-1);
}

TEST(ServeLedger, AppendsItsLedgerToTheFileOnSigusr1AndAtTheStop) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("curl");
  TempDir root;
  TempDir logs;
  ASSERT_TRUE(write_file(root / "f.bin", generated_bytes(kFileBytes, 9)));
  const std::string ledger = logs / "ledger.json";
  ServeProcess serve({tool_path(), "serve", root.path(), "--port", "0", "--method", "splice",
                      "--access-log", logs / "access.log", "--ledger-json", ledger});
  ASSERT_FALSE(serve.url().empty()) << serve.stderr_text();
  const ProgramResult curl = run_program({"curl", "-sS", "-o", "/dev/null", serve.url() + "f.bin"});
  ASSERT_EQ(curl.exit_code, 0) << curl.out;
  // The server counts a send after it returns, a moment after curl may have everything: ask
  // again until the whole file is in (a server that never reports fails after 10 s).
  std::string last;
  for (int i = 0; i < 1000 && bytes_of(last) != kFileBytes; ++i) {
    ASSERT_EQ(::kill(serve.pid(), SIGUSR1), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto lines = lines_of(read_file(ledger));
    if (!lines.empty()) last = lines.back();
  }
  EXPECT_EQ(bench::string_field(last, "method"), "splice") << last;
  EXPECT_EQ(bytes_of(last), kFileBytes) << last;
  EXPECT_EQ(bench::number_field(last, "bytes_zero_copy"), kFileBytes) << last;
  EXPECT_EQ(bench::number_field(last, "bytes_copied"), 0) << last;
  EXPECT_EQ(bench::number_field(last, "requests"), 1) << last;
  EXPECT_GT(bench::number_field(last, "cpu_user_s").value_or(0) +
                bench::number_field(last, "cpu_system_s").value_or(0),
            0)
      << last;
  const std::size_t reports = lines_of(read_file(ledger)).size();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.stderr_text();
  const auto lines = lines_of(read_file(ledger));
  ASSERT_EQ(lines.size(), reports + 1) << "one more line at the stop";
  EXPECT_EQ(bytes_of(lines.back()), kFileBytes) << lines.back();
}

TEST(ServeLedger, AnswersOnStdoutWithADashAndEachTransferShowsAsTheDifference) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_PROGRAM("curl");
  TempDir root;
  ASSERT_TRUE(write_file(root / "f.bin", generated_bytes(kFileBytes, 10)));
  ServeProcess serve({tool_path(), "serve", root.path(), "--port", "0", "--method", "copy",
                      "--access-log", "/dev/null", "--ledger-json", "-"});
  ASSERT_FALSE(serve.url().empty()) << serve.stderr_text();
  auto before = serve.ledger();
  ASSERT_TRUE(before) << before.error().message();
  EXPECT_EQ(before->bytes, 0U);
  for (int i = 0; i < 2; ++i) {
    const ProgramResult curl =
        run_program({"curl", "-sS", "-o", "/dev/null", serve.url() + "f.bin"});
    ASSERT_EQ(curl.exit_code, 0) << curl.out;
  }
  Result<TransferLedger> after = before;
  for (int i = 0; i < 1000 && after && after->bytes < 2 * kFileBytes; ++i) after = serve.ledger();
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_EQ(after->method, "copy");
  EXPECT_EQ(after->bytes, 2 * kFileBytes);
  EXPECT_EQ(after->bytes_zero_copy, 0U);
  EXPECT_EQ(after->bytes_copied_kernel, 4 * kFileBytes) << "read and send copy every byte";
  EXPECT_GE(after->cpu_s(), before->cpu_s());
  EXPECT_EQ(serve.stop(SIGINT), 0) << serve.stderr_text();
}

}  // namespace
}  // namespace zc::test
