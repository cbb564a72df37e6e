// bench/support/serve_process.hpp: `zcopy serve` run as a child, as a user would run it: its URL
// from the first stdout line, its stderr in a file, and, when started with --ledger-json -, its
// own copy ledger whenever asked.
//
//   zc::bench::ServeProcess serve({tool, "serve", dir, "--port", "0", "--ledger-json", "-"});
//   std::string url = serve.url();        // from "serving DIR at URL"
//   auto before = serve.ledger();         // SIGUSR1; the JSON line it answers with
//   int code = serve.stop();              // SIGTERM, then its exit code
//
// The destructor kills and reaps a server that still runs.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "zcopy/core/transfer_ledger.hpp"

namespace zc::bench {

class ServeProcess {
 public:
  struct Options {
    std::string stderr_path{};  // empty: a file in a directory of its own
    int cpu = -1;               // pins the server
    std::chrono::milliseconds start_limit{
        20'000};  // for the first line (sanitized builds are slow)
  };
  // Starts argv and reads its first line; url() stays empty when it did not come.
  explicit ServeProcess(const std::vector<std::string>& argv) : ServeProcess(argv, Options{}) {}
  ServeProcess(const std::vector<std::string>& argv, const Options& options);

  pid_t pid() const noexcept { return process_.pid(); }
  const std::string& url() const noexcept { return url_; }
  const std::string& first_line() const noexcept { return first_line_; }
  std::string stderr_text() const { return read_text(stderr_path_); }

  // The server's ledger so far, as it reports it on SIGUSR1 (needs --ledger-json -).
  Result<TransferLedger> ledger(std::chrono::milliseconds limit = std::chrono::seconds(10));

  // Sends `signal` and returns the exit code (or 128 + the signal).
  int stop(int signal = SIGTERM);

 private:
  std::optional<TempDir> logs_;
  std::string stderr_path_;
  Process process_;
  std::string first_line_;
  std::string url_;
};

// A ledger from the JSON line `zcopy serve --ledger-json` writes (TransferLedger::record).
Result<TransferLedger> ledger_from_record(std::string_view line);

}  // namespace zc::bench
