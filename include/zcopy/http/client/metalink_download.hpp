// zcopy/http/client/metalink_download.hpp: fetch the files a Metalink lists, verified.
//
//   zc::http::MetalinkOptions options;
//   options.output_dir = "downloads";
//   auto results = zc::http::download_metalink(*metalink, options);
//   for (const zc::http::MetalinkFileResult& r : *results) report(r.name, r.result);
//
// Each file is fetched into NAME.unverified from all its URLs at once (download_from_sources:
// NAME.unverified.part while it lands, resumable as any multi-source download), up to
// max_per_source connections each. With piece hashes every piece is hashed from the page cache
// as it lands; a bad piece is fetched again from another URL, and each source that sent a bad
// piece is counted: one that reaches `bad_piece_limit` gets no more, and a piece no remaining
// source has right fails the file. Only when no URL offers byte ranges is the file fetched from
// one URL after another and its bad pieces mended afterwards by Range requests to the others.
// Only a file whose size, pieces and whole-file digest all match is renamed to NAME, so NAME
// never holds unverified bytes. Every name is opened beneath output_dir without following a
// symlink.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zcopy/http/client/checksum.hpp"
#include "zcopy/http/client/download.hpp"
#include "zcopy/http/client/download_sources.hpp"
#include "zcopy/http/client/metalink.hpp"

namespace zc::http {

// One file and everything that may fetch and verify it: what a downloader takes, whether it
// uses one source at a time or several at once.
struct SourcedFile {
  std::string name;       // relative to the output directory
  std::vector<Url> urls;  // in the order to try
  std::optional<Checksum> checksum;
  std::optional<std::uint64_t> size;
  std::optional<MetalinkPieces> pieces;
};

// The files of `metalink`, their URLs by priority, and the strongest whole-file digest of each.
std::vector<SourcedFile> sourced_files(const Metalink& metalink);

struct MetalinkOptions {
  std::string output_dir = ".";
  DownloadOptions download;      // how each file is fetched; output and checksum are set per file
  unsigned bad_piece_limit = 3;  // bad pieces after which a source is not asked again
  unsigned max_per_source = 1;   // connections to each URL
};

struct MetalinkFileResult {
  std::string name;
  Result<SourcesResult> result;  // note: which pieces were fetched again; bytes per URL
};

// Fetches every file of `metalink` in turn. An error only when the output directory cannot be
// opened, or on a stop request; each file's own failure is in its result.
Result<std::vector<MetalinkFileResult>> download_metalink(const Metalink& metalink,
                                                          const MetalinkOptions& options);

// Fetches one file beneath `directory` (an open directory descriptor) as the header says.
Result<SourcesResult> download_sourced(const SourcedFile& file, int directory,
                                       const MetalinkOptions& options);

// Where a file lands before it is verified.
std::string unverified_path(const std::string& name);

}  // namespace zc::http
