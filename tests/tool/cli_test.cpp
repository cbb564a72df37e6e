// The zcopy tool's top level: help, version, and one clear line plus exit 2 for a bad command line.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"
#include "zcopy/version.hpp"

namespace {

struct ToolRun {
  int exit_code;
  std::string output;  // stdout and stderr together
};

ToolRun run_tool(const std::string& arguments) {
  const std::string tool = zc::test::zcopy_tool();
  if (tool.empty()) return {-1, "ZCOPY_TOOL is not set"};
  const auto result = zc::test::run_command(tool + " " + arguments + " 2>&1");
  return {result.exit_code, result.output};
}

TEST(Cli, VersionPrintsTheLibraryVersion) {
  ZC_REQUIRE_TOOL();
  const ToolRun run = run_tool("--version");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.output, std::string("zcopy ") + zc::kVersion + "\n");
}

TEST(Cli, HelpListsEveryCommandAndTheExitCodes) {
  ZC_REQUIRE_TOOL();
  const ToolRun run = run_tool("--help");
  EXPECT_EQ(run.exit_code, 0);
  for (const char* command : {"demo", "doctor", "inspect"})
    EXPECT_NE(run.output.find(command), std::string::npos) << command;
  EXPECT_NE(run.output.find("Exit codes"), std::string::npos);
}

TEST(Cli, NoCommandIsAUsageErrorOnOneLine) {
  ZC_REQUIRE_TOOL();
  const ToolRun run = run_tool("");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.output, "zcopy: a command is required (see zcopy --help)\n");
}

TEST(Cli, AnUnknownCommandIsNamedAndIsAUsageError) {
  ZC_REQUIRE_TOOL();
  const ToolRun run = run_tool("frobnicate");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("frobnicate"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find('\n'), run.output.size() - 1) << "one line: " << run.output;
}

TEST(Cli, ABadSizeNamesTheTextAndIsAUsageError) {
  ZC_REQUIRE_TOOL();
  const ToolRun run = run_tool("inspect --size 12Q");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("'12Q'"), std::string::npos) << run.output;
}

}  // namespace
