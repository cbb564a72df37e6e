// zcopy/http/download.hpp: fetch one URL into a file, safely.
//
//   zc::http::DownloadOptions options;
//   options.output = "genome.fa";
//   zc::Result<zc::http::DownloadResult> r = zc::http::download(*zc::http::parse_url(url),
//   options); std::puts(r->ledger.summary().c_str());
//
// The body is written to OUTPUT.part; only when every byte the server announced has arrived is the
// file fsynced and renamed to OUTPUT, so OUTPUT never exists half-written. On any failure (HTTP
// error, refused connection, truncated body, full disk) the error says what happened, the .part
// stays for `resume`, and OUTPUT is not created. Redirects are followed up to a bound.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "zcopy/http/download_method.hpp"
#include "zcopy/http/url.hpp"
#include "zcopy/net/transfer_ledger.hpp"

namespace zc::http {

// Counters a progress display reads while downloads run (relaxed: display only).
struct DownloadProgress {
  std::atomic<std::uint64_t> bytes_done{0};      // written to files, resumed bytes included
  std::atomic<std::uint64_t> bytes_expected{0};  // sum of the sizes learnt so far
};

struct DownloadOptions {
  std::string output;  // the final path; OUTPUT.part while in progress
  DownloadMethod method = DownloadMethod::automatic;
  bool resume = false;           // continue OUTPUT.part with a Range request
  unsigned parallel_ranges = 1;  // split one body over this many connections
  int max_redirects = 5;
  std::chrono::milliseconds timeout{30000};
  bool sync = true;                   // fsync the file (and its directory) before and after rename
  std::optional<std::int64_t> mtime;  // set the file's mtime (seconds) once complete
  DownloadProgress* progress = nullptr;
};

struct DownloadResult {
  net::TransferLedger ledger;      // this transfer's bytes, copies, wall and CPU time
  std::uint64_t file_size = 0;     // the final file's size
  std::uint64_t resumed_from = 0;  // bytes already in OUTPUT.part that were kept
  std::string note;                // one line on a fallback (auto method, chunked body), if any
  Url final_url;                   // after redirects
};

Result<DownloadResult> download(const Url& url, const DownloadOptions& options);

// OUTPUT.part for OUTPUT.
std::string part_path(const std::string& output);

}  // namespace zc::http
