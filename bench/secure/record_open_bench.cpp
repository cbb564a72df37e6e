#include "bench/secure/record_open_bench.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "bench/support/stats.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/secure/record_writer.hpp"
#include "zcopy/secure/unverified_record.hpp"

namespace zc::bench {

namespace {

using namespace zc::secure;

constexpr auto kSuite = CipherSuite::aes_256_gcm_sha384;
constexpr std::size_t kContent = 16384;
constexpr std::size_t kRecord = kContent + kRecordOverhead;
constexpr std::size_t kRing = 64;  // 1 MiB of records

Result<double> measure_ours(double seconds) {
  std::vector<std::uint8_t> secret_bytes(suite_hash_size(kSuite), 0x33);
  auto secret = Secret::from(secret_bytes);
  auto sealer = RecordCipher::create(kSuite, *secret);
  if (!sealer) return std::unexpected(sealer.error());
  auto writer = RecordWriter::create(-1, std::move(*sealer));
  if (!writer) return std::unexpected(writer.error());
  std::vector<std::byte> pristine(kRing * kRecord);
  fill_random(pristine, 8448);
  for (std::size_t i = 0; i < kRing; ++i) {
    auto sealed = writer->seal(std::span(pristine).subspan(i * kRecord, kRecord), kContent,
                               ContentType::application_data);
    if (!sealed) return std::unexpected(sealed.error());
  }
  std::vector<std::byte> ring(pristine.size());
  std::uint64_t bytes = 0;
  double spent = 0;
  while (spent < seconds) {
    std::memcpy(ring.data(), pristine.data(), ring.size());
    auto opener = RecordCipher::create(kSuite, *secret);
    if (!opener) return std::unexpected(opener.error());
    const CpuTime start = thread_cpu_time();
    for (std::size_t i = 0; i < kRing; ++i) {
      std::byte* record = ring.data() + i * kRecord;
      std::span<const std::uint8_t, kRecordHeaderSize> header(
          reinterpret_cast<const std::uint8_t*>(record), kRecordHeaderSize);
      auto opened =
          UnverifiedRecord::adopt(header, {record + kRecordHeaderSize, kRecord - kRecordHeaderSize})
              .open(*opener);
      if (!opened) return std::unexpected(opened.error());
      bytes += opened->content().size();
    }
    spent += thread_cpu_time().total() - start.total();
  }
  return static_cast<double>(bytes) / spent;
}

// openssl speed prints "aes-256-gcm  4567890.12k": thousands of bytes per second.
Result<double> measure_openssl(double seconds) {
  RunResult done =
      run({"openssl", "speed", "-seconds", std::to_string(std::max(1L, std::lround(seconds))),
           "-evp", "aes-256-gcm", "-bytes", "16384"},
          true);
  if (done.exit_code != 0)
    return fail(Errc::system, "openssl speed", "exited with " + std::to_string(done.exit_code));
  std::istringstream lines(done.output);
  std::string line;
  double thousands = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("AES-256-GCM", 0) != 0 && line.rfind("aes-256-gcm", 0) != 0) continue;
    const auto k = line.rfind('k');
    const auto space = line.rfind(' ', k);
    if (k == std::string::npos || space == std::string::npos) continue;
    thousands = std::stod(line.substr(space + 1, k - space - 1));
  }
  if (thousands <= 0) return fail(Errc::system, "openssl speed", "no AES-256-GCM figure in output");
  return thousands * 1000;
}

}  // namespace

Result<RecordOpenFigures> run_record_open_bench(const RecordOpenBenchConfig& config) {
  RecordOpenFigures figures;
  const bool have_openssl = have_program("openssl");
  if (have_openssl) {
    RunResult version = run({"openssl", "version"});
    figures.openssl_version = version.output.substr(0, version.output.find_first_of("(\n"));
    while (!figures.openssl_version.empty() && figures.openssl_version.back() == ' ')
      figures.openssl_version.pop_back();
  }
  std::vector<double> ours, theirs;
  for (unsigned i = 0; i < config.repeats; ++i) {
    auto mine = measure_ours(config.seconds);
    if (!mine) return std::unexpected(mine.error());
    ours.push_back(*mine);
    if (have_openssl) {
      auto speed = measure_openssl(config.seconds);
      if (!speed) return std::unexpected(speed.error());
      theirs.push_back(*speed);
    }
  }
  figures.ours_bytes_per_s = median(ours);
  figures.openssl_speed_bytes_per_s = theirs.empty() ? 0 : median(theirs);
  return figures;
}

Report describe(const RecordOpenFigures& f, const RecordOpenBenchConfig& config) {
  Report report;
  JsonRecord ours;
  ours.add("bench", "tls-record-open").add("method", "in-place-open").add("size_bytes", 16384);
  ours.add("bytes_per_s", f.ours_bytes_per_s);
  report.records.push_back(ours);
  if (f.openssl_speed_bytes_per_s > 0) {
    JsonRecord speed;
    speed.add("bench", "tls-record-open").add("method", "openssl-speed").add("size_bytes", 16384);
    speed.add("bytes_per_s", f.openssl_speed_bytes_per_s);
    report.records.push_back(speed);
  }
  report.text = format_text(
      "16 KiB TLS_AES_256_GCM_SHA384 records, median of %u x %.0f s each:\n"
      "  opened in place (nonce, AAD, decrypt, tag check)  %8.0f MB/s\n",
      config.repeats, config.seconds, f.ours_bytes_per_s / 1e6);
  if (f.openssl_speed_bytes_per_s > 0)
    report.text += format_text(
        "  openssl speed -evp aes-256-gcm -bytes 16384        %8.0f MB/s  (%s)\n"
        "  ratio                                              %8.2f x\n",
        f.openssl_speed_bytes_per_s / 1e6, f.openssl_version.c_str(),
        f.ours_bytes_per_s / f.openssl_speed_bytes_per_s);
  else
    report.text += "  openssl speed: the openssl program is not installed\n";
  return report;
}

}  // namespace zc::bench
