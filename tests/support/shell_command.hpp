// tests/support/shell_command.hpp: run a command line as a user would type it, and find the
// zcopy binary under test.
//
//   const auto run = zc::test::run_command(zc::test::zcopy_tool() + " doctor --json 2>&1");
//   EXPECT_EQ(run.exit_code, 0) << run.output;
#pragma once

#include <string>

namespace zc::test {

struct CommandResult {
  int exit_code = -1;  // 128 + N when killed by signal N; -1 when it could not be started
  std::string output;  // stdout (append 2>&1 to the command for stderr too)
};

// Runs `command` with /bin/sh and waits for it.
CommandResult run_command(const std::string& command);
// The stdout of `command`, whatever its exit code.
std::string output_of(const std::string& command);
// The zcopy binary ctest hands the tests in ZCOPY_TOOL; "" when run outside ctest.
std::string zcopy_tool();

}  // namespace zc::test
