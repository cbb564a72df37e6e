// tests/http/serve_process.hpp: the zcopy tool's `serve` run as a child, as a user would run it.
//
//   zc::test::ServeProcess serve({tool, "serve", dir, "--port", "0"});
//   std::string url = serve.url();   // from its first stdout line, "serving DIR at URL"
//   int code = serve.stop();         // SIGTERM, then its exit code
//
// The destructor kills and reaps a child that is still running, so a failing test leaks nothing.
// It is bench/support's, which `zcopy serve bench` runs its servers with.
#pragma once

#include <string>

#include "bench/support/serve_process.hpp"
#include "http_test_support.hpp"
#include "support/shell_command.hpp"

namespace zc::test {

inline std::string tool_path() {
  return zcopy_tool();
}

using bench::ServeProcess;

}  // namespace zc::test
