#include "get_sources.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "bench/http/get_sources_bench.hpp"
#include "bench/support/process.hpp"
#include "stop_signals.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/client/download_batch.hpp"
#include "zcopy/http/client/printable.hpp"

namespace zc::cli {
namespace {

void say(const std::string& line) {
  std::fprintf(stderr, "zcopy get: %s\n", http::printable(line).c_str());
}

// "12.0 MiB (37%)" for what a source gave of `size`.
std::string share(std::uint64_t bytes, std::uint64_t size) {
  const auto percent = size > 0 ? bytes * 100 / size : 0;
  return format_bytes(bytes) + " (" + std::to_string(percent) + "%)";
}

}  // namespace

void report_sources(const GetSourcesSettings& settings, const std::string& file,
                    const http::SourcesResult& r) {
  const http::DownloadResult& d = r.download;
  if (!d.note.empty()) say(file + ": " + d.note);
  if (settings.json) {
    JsonRecord record = download_record(file, d);
    record.add("sources", static_cast<std::uint64_t>(r.sources.size()));
    std::printf("%s\n", record.str().c_str());
    for (const http::SourceReport& s : r.sources) {
      JsonRecord source;
      source.add("bench", "get-source")
          .add("file", http::printable(file))
          .add("url", http::printable(s.url))
          .add("bytes", s.bytes)
          .add("dropped", s.dropped)
          .add("reason", http::printable(s.reason))
          .add("bad_pieces", static_cast<std::uint64_t>(s.bad_pieces));
      std::printf("%s\n", source.str().c_str());
    }
    std::fflush(stdout);
    return;
  }
  for (const http::SourceReport& s : r.sources) {
    std::string line = file + ": " + s.url + ": " + share(s.bytes, d.file_size);
    if (s.bad_pieces > 0) line += ", " + std::to_string(s.bad_pieces) + " bad piece(s)";
    if (s.dropped)
      line += "; dropped: " + s.reason;
    else if (!s.reason.empty())
      line += "; " + s.reason;
    say(line);
  }
  say(file + ": " + d.ledger.summary() + (d.verified.empty() ? "" : "; " + d.verified));
}

JsonRecord download_record(const std::string& file, const http::DownloadResult& r) {
  JsonRecord record = r.ledger.record("get");
  record.add("url", http::printable(r.final_url.str()))
      .add("file", http::printable(file))
      .add("resumed_from", r.resumed_from)
      .add("origin_verified", r.origin_verified)
      .add("verified", r.verified.empty() ? std::string("no") : r.verified)
      .add("cpu_s", r.ledger.cpu_s());
  return record;
}

bool is_multi_source(std::size_t url_count, std::size_t mirror_count, bool follow_links,
                     const std::string& output) {
  if (mirror_count > 0 || follow_links) return true;
  struct stat st {};
  const bool directory = !output.empty() && ::stat(output.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  return url_count > 1 && !output.empty() && !directory && !output.ends_with('/');
}

std::string describe_sources(const GetSourcesSettings& settings, double elapsed_s) {
  std::uint64_t total = 0;
  for (const auto& b : settings.bytes) total += b.load(std::memory_order_relaxed);
  std::string line;
  for (std::size_t i = 0; i < settings.bytes.size(); ++i) {
    const std::uint64_t bytes = settings.bytes[i].load(std::memory_order_relaxed);
    const double rate = elapsed_s > 0 ? static_cast<double>(bytes) / elapsed_s : 0.0;
    if (!line.empty()) line += " | ";
    line += "#" + std::to_string(i + 1) + " " + format_rate(rate) + " " +
            std::to_string(total > 0 ? bytes * 100 / total : 0) + "%";
  }
  return line;
}

CommandResult run_get_sources(const std::vector<http::Url>& urls, const http::DownloadOptions& base,
                              GetSourcesSettings& settings) {
  // The file is named as a download of the first URL alone would name it.
  auto named = http::plan_downloads(std::span(urls).first(1), base, base.output);
  if (!named) return as_usage(named.error());
  http::SourcesOptions options;
  options.download = named->front().options;
  options.max_per_source = settings.max_per_source;
  options.source_bytes = settings.bytes;
  options.follow_links = settings.follow_links;
  auto result = http::download_from_sources(urls, options);
  if (!result) return std::unexpected(result.error());
  report_sources(settings, options.download.output, *result);
  return kExitOk;
}

CommandResult run_get_sources_bench(std::uint64_t size, unsigned repeats,
                                    const std::string& directory, const std::string& rate,
                                    bool json) {
  catch_stop_signals();
  bench::GetSourcesBenchConfig config{.size = size,
                                      .rate = rate,
                                      .repeats = repeats,
                                      .directory = directory,
                                      .zcopy = bench::self_executable()};
  auto result = bench::run_get_sources_bench(config, g_stop);
  if (!result) return std::unexpected(result.error());
  const double r = result->single_source_bytes_per_s;
  for (const bench::GetSourcesBenchRow& row : result->rows) {
    const double times_r = r > 0 ? row.bytes_per_s / r : 0.0;
    if (json) {
      JsonRecord record = bench_record("get-sources", row.client, size);
      record.add("bytes_per_s", row.bytes_per_s)
          .add("cpu_s_per_gb", row.cpu_s_per_gb)
          .add("sources", 3)
          .add("source_rate_bytes_per_s", r)
          .add("times_source_rate", times_r)
          .add("spread", row.spread);
      std::printf("%s\n", record.str().c_str());
    } else {
      std::printf(
          "get-sources %-7s %s (%.2f R, R = %s from one source), CPU %.3f s/GB, spread %.2f\n",
          row.client.c_str(), format_rate(row.bytes_per_s).c_str(), times_r, format_rate(r).c_str(),
          row.cpu_s_per_gb, row.spread);
    }
  }
  return kExitOk;
}

}  // namespace zc::cli
