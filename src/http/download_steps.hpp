// src/http/download_steps.hpp: the steps a single-stream and a ranged download share.
#pragma once

#include <cstdint>
#include <string>

#include "zcopy/core/fd.hpp"
#include "zcopy/http/client.hpp"
#include "zcopy/http/download.hpp"

namespace zc::http::detail {

struct Fetched {
  ClientResponse response;
  Url url;  // where the answer came from, after redirects
};

// Sends `request` to `url`, following up to options.max_redirects redirects.
Result<Fetched> fetch_following(const Url& url, const DownloadOptions& options,
                                const RequestOptions& request);

// "GET url: HTTP 404 Not Found".
std::unexpected<Error> http_status_error(const Fetched& fetched);

// Opens OUTPUT.part for writing without following a symlink; `truncate` starts it empty.
Result<Fd> open_part(const std::string& part, bool truncate);

// Adds `bytes` moved by `method` to the ledger, counting copies as the kernel makes them.
void account(net::TransferLedger& ledger, DownloadMethod method, bool chunked, std::uint64_t bytes);

// Checks the size, fsyncs, sets the mtime, closes and renames OUTPUT.part to OUTPUT.
Result<void> finish_part(Fd file, const std::string& part, const DownloadOptions& options,
                         std::uint64_t expected_size);

// Splits one body over several connections (download_ranges.cpp).
Result<DownloadResult> download_ranges(const Url& url, const DownloadOptions& options,
                                       DownloadMethod method);

}  // namespace zc::http::detail
