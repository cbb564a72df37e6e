// zcopy/http/client/download_batch.hpp: many downloads, at most N at a time (`zcopy get -j N`).
//
//   std::vector<zc::http::DownloadJob> jobs = ...;
//   auto results = zc::http::download_all(jobs, 4);   // results[i] belongs to jobs[i]
//
// Each download runs on a worker thread and keeps its own .part, so one failure leaves the others
// running and finishing; the caller reports each result. Each worker keeps its own keep-alive
// connections (a ConnectionPool), so files from one server share a connection per worker.
//
// With DownloadOptions::sync off (Durability::batch), sync_file_systems() makes the files
// durable at once before the caller reports success.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "zcopy/http/client/download.hpp"

namespace zc::http {

struct DownloadJob {
  Url url;
  DownloadOptions options;
};

// One job per URL, each with `base`'s options, written where `output` says: for one URL, the file
// (default: the URL's last segment, here) unless it names a directory; for several, the
// directory (default: here) each lands in under its last segment. Errc::invalid_argument when a
// URL names no plain file, or when two jobs would write the same file, .part or record.
Result<std::vector<DownloadJob>> plan_downloads(std::span<const Url> urls,
                                                const DownloadOptions& base,
                                                const std::string& output);

// What the workers' connections did, summed.
struct BatchConnections {
  std::uint64_t opened = 0;
  std::uint64_t reused = 0;  // requests sent on a connection an earlier one left open
};

std::vector<Result<DownloadResult>> download_all(std::span<const DownloadJob> jobs,
                                                 unsigned parallel,
                                                 BatchConnections* connections = nullptr);

// One syncfs(2) per file system the jobs' outputs lie on; returns how many were made.
Result<std::size_t> sync_file_systems(std::span<const DownloadJob> jobs);

// syncfs(2) of the file system holding `fd`; `shown` names it in an error.
Result<void> sync_file_system(int fd, const std::string& shown);

}  // namespace zc::http
