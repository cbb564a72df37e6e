#include "bench/support/serve_process.hpp"

#include "bench/support/json_fields.hpp"

namespace zc::bench {

ServeProcess::ServeProcess(const std::vector<std::string>& argv, const Options& options) {
  stderr_path_ = options.stderr_path;
  if (stderr_path_.empty()) {
    logs_.emplace("zcopy-serve-logs");
    stderr_path_ = *logs_ / "stderr";
  }
  auto started = Process::spawn(
      argv, {.out = Output::pipe, .err = Output::file, .file = stderr_path_, .cpu = options.cpu});
  if (!started) return;
  process_ = std::move(*started);
  first_line_ = process_.read_line(options.start_limit).value_or("");
  const std::size_t space = first_line_.rfind(' ');
  if (first_line_.rfind("serving ", 0) == 0 && space != std::string::npos)
    url_ = first_line_.substr(space + 1);
}

Result<TransferLedger> ServeProcess::ledger(std::chrono::milliseconds limit) {
  if (!process_.running()) return fail(Errc::closed, "zcopy serve ledger", "the server is gone");
  process_.signal(SIGUSR1);
  auto line = process_.read_line(limit);
  if (!line)
    return fail(Errc::timeout, "zcopy serve ledger", "no --ledger-json line after SIGUSR1");
  return ledger_from_record(*line);
}

int ServeProcess::stop(int signal) {
  if (!process_.running()) return -1;
  return process_.stop(signal).code;
}

Result<TransferLedger> ledger_from_record(std::string_view line) {
  auto number = [&](std::string_view key) { return number_field(line, key); };
  const auto method = string_field(line, "method");
  const auto bytes = number("size_bytes");
  const auto zero_copy = number("bytes_zero_copy");
  const auto user = number("bytes_copied_user");
  const auto kernel = number("bytes_copied_kernel");
  const auto wall = number("wall_s");
  const auto cpu_user = number("cpu_user_s");
  const auto cpu_system = number("cpu_system_s");
  if (!method || !bytes || !zero_copy || !user || !kernel || !wall || !cpu_user || !cpu_system)
    return fail(Errc::corrupt, "ledger record", "not a ledger: " + std::string(line));
  auto count = [](double value) { return static_cast<std::uint64_t>(value); };
  const auto ciphered = number("bytes_ciphered");  // only when a cipher ran
  return TransferLedger{.method = *method,
                        .bytes = count(*bytes),
                        .bytes_zero_copy = count(*zero_copy),
                        .bytes_copied_user = count(*user),
                        .bytes_copied_kernel = count(*kernel),
                        .bytes_ciphered = ciphered ? count(*ciphered) : 0,
                        .wall_s = *wall,
                        .cpu_user_s = *cpu_user,
                        .cpu_system_s = *cpu_system};
}

}  // namespace zc::bench
