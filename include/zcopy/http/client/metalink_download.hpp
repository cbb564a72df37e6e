// zcopy/http/client/metalink_download.hpp: fetch the files a Metalink lists, verified.
//
//   zc::http::MetalinkOptions options;
//   options.output_dir = "downloads";
//   auto results = zc::http::download_metalink(*metalink, options);
//   for (const zc::http::MetalinkFileResult& r : *results) report(r.name, r.result);
//
// Each file is fetched into NAME.unverified (through download(), so NAME.unverified.part while it
// lands and resumes as any download does) from its first URL, and on failure from the next. With
// piece hashes every piece is then hashed where it lies in the page cache; a bad piece is fetched
// again by a Range request (If-Range on that source's validator) from the other URLs in turn,
// written in place and hashed again, and each source that sent a bad piece is counted: one that
// reaches `bad_piece_limit` is not asked again, and a piece no remaining source can mend fails
// the file. Only a file whose size, pieces and whole-file digest all match is renamed to NAME, so
// NAME never holds unverified bytes. Every name is opened beneath output_dir without following a
// symlink.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zcopy/http/client/checksum.hpp"
#include "zcopy/http/client/download.hpp"
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
};

struct MetalinkFileResult {
  std::string name;
  Result<DownloadResult> result;  // result->note says which pieces were mended, from where
};

// Fetches every file of `metalink` in turn. An error only when the output directory cannot be
// opened, or on a stop request; each file's own failure is in its result.
Result<std::vector<MetalinkFileResult>> download_metalink(const Metalink& metalink,
                                                          const MetalinkOptions& options);

// Fetches one file beneath `directory` (an open directory descriptor) as the header says.
Result<DownloadResult> download_sourced(const SourcedFile& file, int directory,
                                        const MetalinkOptions& options);

// Where a file lands before it is verified.
std::string unverified_path(const std::string& name);

}  // namespace zc::http
