// zcopy/http/client/download_batch.hpp: many downloads, at most N at a time (`zcopy get -j N`).
//
//   std::vector<zc::http::DownloadJob> jobs = ...;
//   auto results = zc::http::download_all(jobs, 4);   // results[i] belongs to jobs[i]
//
// Each download runs on a worker thread and keeps its own .part, so one failure leaves the others
// running and finishing; the caller reports each result.
#pragma once

#include <span>
#include <vector>

#include "zcopy/http/client/download.hpp"

namespace zc::http {

struct DownloadJob {
  Url url;
  DownloadOptions options;
};

std::vector<Result<DownloadResult>> download_all(std::span<const DownloadJob> jobs,
                                                 unsigned parallel);

}  // namespace zc::http
