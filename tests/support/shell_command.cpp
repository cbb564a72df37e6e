#include "support/shell_command.hpp"

#include <cstdlib>

#include "bench/support/process.hpp"

namespace zc::test {

CommandResult run_command(const std::string& command) {
  // The shell is the point here: these are command lines as a user types them, pipes and
  // redirections included.
  const bench::RunResult run = bench::run({"/bin/sh", "-c", command}, false);
  return {run.exit_code, run.output};
}

std::string output_of(const std::string& command) {
  return run_command(command).output;
}

std::string zcopy_tool() {
  const char* path = std::getenv("ZCOPY_TOOL");
  return path == nullptr ? std::string() : std::string(path);
}

}  // namespace zc::test
