#include "support/shell_command.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>

namespace zc::test {

CommandResult run_command(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status == -1) return result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string output_of(const std::string& command) {
  return run_command(command).output;
}

std::string zcopy_tool() {
  const char* path = std::getenv("ZCOPY_TOOL");
  return path == nullptr ? std::string() : std::string(path);
}

}  // namespace zc::test
