// tools/zcopy/get_sources.hpp: `zcopy get URL1 URL2 -o FILE` and `--mirror URL`: one file from
// several sources, with a line (or a JSON record) per source saying what it gave or why it was
// dropped.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "command.hpp"
#include "zcopy/core/json_record.hpp"
#include "zcopy/http/client/download_sources.hpp"

namespace zc::cli {

struct GetSourcesSettings {
  unsigned max_per_source = 1;
  bool follow_links = true;
  bool json = false;
  // Bytes from each given source so far, for the progress display (sized by run_get_sources'
  // caller with source_counters()).
  std::vector<std::atomic<std::uint64_t>> bytes;
};

// "A 41.2 MB/s 60% | B 20.1 MB/s 30%": each given source's rate and share so far.
std::string describe_sources(const GetSourcesSettings& settings, double elapsed_s);

// What each source of a finished download gave (or why it was dropped) and the summary: one
// line each on stderr, or JSON records on stdout.
void report_sources(const GetSourcesSettings& settings, const std::string& file,
                    const http::SourcesResult& r);

// The --json record of one downloaded file.
JsonRecord download_record(const std::string& file, const http::DownloadResult& r);

// Whether a get of `url_count` URLs (plus `mirror_count` --mirror URLs) into `output` fetches one
// file from several sources: with a mirror, with --follow-links, or with several URLs and an -o
// that is not a directory.
bool is_multi_source(std::size_t url_count, std::size_t mirror_count, bool follow_links,
                     const std::string& output);

// Downloads `urls` as sources of one file to base.output (default: the first URL's name).
CommandResult run_get_sources(const std::vector<http::Url>& urls, const http::DownloadOptions& base,
                              GetSourcesSettings& settings);

// `zcopy get --bench-sources`: three shaped sources, zcopy against aria2c
// (bench/http/get_sources_bench.hpp); `rate` is tc's spelling of each source's rate.
CommandResult run_get_sources_bench(std::uint64_t size, unsigned repeats,
                                    const std::string& directory, const std::string& rate,
                                    bool json);

}  // namespace zc::cli
