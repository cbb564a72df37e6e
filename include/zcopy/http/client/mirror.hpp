// zcopy/http/client/mirror.hpp: `zcopy get -r`: copy a directory tree served by `zcopy serve`.
//
//   zc::http::MirrorOptions options;
//   options.output_dir = "copy";
//   auto r = zc::http::mirror(*zc::http::parse_url("http://host:8080/data/"), options);
//
// Listings come from the server's JSON answer to `Accept: application/json`. The tree is
// recreated under output_dir and nothing is ever written outside it: every name must be a plain
// path component (see check_entry_name), and every directory is opened from the output root by
// openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) and held open while its files are written, so a
// directory swapped for a symlink during the run makes that file fail instead of leading out.
// A file named like another listed file's .part (or record) is not mirrored: two downloads would
// share it. A file whose local copy has the listed size and mtime and a verified origin (its
// user.zcopy.validator xattr) is skipped; when that origin is an ETag it is first re-checked with
// If-None-Match, which notices a change the listing's whole-second mtime cannot. Re-running
// finishes an interrupted mirror (each .part of 1 MiB or more resumes as its record says; a
// smaller one is fetched again, and keeps no record meanwhile); downloaded files get
// the listed mtime only when verified, so a resume the server could not vouch for is fetched
// again next time.
//
// Listings share one keep-alive connection, and each of the `parallel` workers keeps its own for
// the files. With Durability::batch no file is flushed on its own: one syncfs of the output's
// file system comes after the last file, before the result reports success.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "zcopy/http/client/download.hpp"

namespace zc::http {

struct MirrorOptions {
  std::string output_dir = ".";
  DownloadOptions download;  // method, timeout, progress (output, mtime, sync are per file)
  unsigned parallel = 1;     // files fetched at once
  int max_depth = 64;
  Durability durability = Durability::file;
};

struct MirrorResult {
  std::uint64_t files_downloaded = 0;
  std::uint64_t files_skipped = 0;
  std::uint64_t directories = 0;
  TransferLedger ledger;        // the downloaded files' ledgers merged; wall time of the whole run
  std::vector<Error> failures;  // files that could not be fetched (the others still were)
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_reused = 0;  // requests sent on a connection kept open
  std::uint64_t syncs = 0;               // whole-file-system syncs (Durability::batch)

  // Files downloaded per second of the run's wall time.
  double files_per_s() const noexcept {
    return ledger.wall_s > 0 ? static_cast<double>(files_downloaded) / ledger.wall_s : 0;
  }
};

// Fails outright on a bad listing or an unsafe name; per-file download failures are collected in
// MirrorResult::failures.
Result<MirrorResult> mirror(const Url& directory, const MirrorOptions& options);

}  // namespace zc::http
