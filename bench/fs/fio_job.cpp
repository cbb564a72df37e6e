#include "bench/fs/fio_job.hpp"

#include <cstdlib>

#include "bench/support/data.hpp"
#include "bench/support/process.hpp"

namespace zc::bench {

Result<double> run_fio(const FioJob& job) {
  std::vector<std::string> argv{"fio",
                                "--name=" + job.rw,
                                "--filename=" + job.file,
                                "--rw=" + job.rw,
                                "--bs=4k",
                                "--size=" + std::to_string(job.size),
                                "--ioengine=psync",
                                "--time_based",
                                "--runtime=" + std::to_string(job.seconds),
                                "--output-format=json",
                                "--output=" + job.output};
  argv.insert(argv.end(), job.extra.begin(), job.extra.end());
  auto fio = Process::spawn(argv, {.out = Output::inherit, .err = Output::inherit});
  if (!fio) return std::unexpected(fio.error());
  if (!fio->wait().ok()) return fail(Errc::system, "fio " + job.file, "fio failed");
  const std::string text = read_text(job.output);
  // jobs[0].read or jobs[0].write, then its "iops".
  const std::string direction = job.rw == "randwrite" ? "\"write\"" : "\"read\"";
  const auto section = text.find(direction);
  const auto at = section == std::string::npos ? section : text.find("\"iops\"", section);
  const auto colon = at == std::string::npos ? at : text.find(':', at);
  if (colon == std::string::npos) return fail(Errc::corrupt, "fio output", "no iops field");
  return std::strtod(text.c_str() + colon + 1, nullptr);
}

}  // namespace zc::bench
