// src/http/client/download_steps.hpp: the steps a single-stream and a ranged download share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "zcopy/core/fd.hpp"
#include "zcopy/http/client/client.hpp"
#include "zcopy/http/client/download.hpp"
#include "zcopy/http/client/part_record.hpp"

namespace zc::http::detail {

struct Fetched {
  ClientResponse response;
  Url url;  // where the answer came from, after redirects
};

// Where a download's files live: OUTPUT's directory, held open so that every file is created,
// renamed and removed relative to it, and the names inside it.
struct OutputPlace {
  Fd directory;
  std::string name;          // OUTPUT's last component
  std::string part;          // NAME.part
  std::string record;        // NAME.part.zcopy
  std::string shown_part;    // OUTPUT.part as the user named it, for messages
  std::string shown_record;  // OUTPUT.part.zcopy likewise
};

// Opens OUTPUT's directory: through options.beneath_fd without following any symlink when set,
// else as the path says.
Result<OutputPlace> open_output_place(const DownloadOptions& options);

// How a download goes on from what is on disk (see plan_resume).
struct ResumePlan {
  std::optional<PartRecord> record;  // the record to continue; empty: start afresh
  std::uint64_t part_size = 0;       // the .part's size now
  bool forced = false;               // --continue=force on a .part without a usable record
  std::string note;
};

// Decides from OUTPUT.part and its record whether and where to resume.
Result<ResumePlan> plan_resume(const OutputPlace& place, const DownloadOptions& options);

// Sends `request` to `url`, following up to options.max_redirects redirects.
Result<Fetched> fetch_following(const Url& url, const DownloadOptions& options,
                                RequestOptions request);

// The ledger's method for a body read through `session`: "tls-in-place" or "tls-ssl_read".
std::string tls_method_name(const secure::Session& session);

// "GET url: HTTP 404 Not Found".
std::unexpected<Error> http_status_error(const Fetched& fetched);

// The response's validator fields, as a record keeps them.
void take_validators(const ResponseHead& head, PartRecord& record);
// Empty when `head` agrees with `record`'s validators, else why not.
std::string validator_mismatch(const ResponseHead& head, const PartRecord& record);

// `options` with the checksum the file must match: the caller's, else (unless verification is
// off) the one `head` announces. A malformed digest field adds a note and is not used.
DownloadOptions with_checksum(const DownloadOptions& options, const ResponseHead& head,
                              std::string& note);

// Opens NAME.part for writing without following a symlink (`truncate` starts it empty) and
// locks it, so that no second download writes the same .part.
Result<Fd> open_part(const OutputPlace& place, bool truncate);

// What finish_part stamps on a complete file.
struct Stamp {
  bool verified = true;   // false: resumed without a validator, so no mtime or origin is set
  std::string validator;  // "etag ..." / "last-modified ..." / "none", for keep_origin
};

// "etag TAG", "last-modified DATE" or "none": what a verified file's xattr keeps.
std::string origin_of(const PartRecord& record);

class FileHasher;

// Checks the size and (with options.checksum) the digest, continuing `hasher` when it followed
// the writes; fsyncs, stamps, closes and renames NAME.part to NAME, drops the record. The
// hashing pass and the verdict go into `result`.
Result<void> finish_part(Fd file, const OutputPlace& place, const DownloadOptions& options,
                         std::uint64_t expected_size, const Stamp& stamp, FileHasher* hasher,
                         DownloadResult& result);

// The error a stop request turns a failure into.
Error interrupted(const OutputPlace& place);

// Splits one body over several connections, or continues a ranged record (download_ranges.cpp).
Result<DownloadResult> download_ranges(const Url& url, const DownloadOptions& options,
                                       net::ReceiveMethod method, const OutputPlace& place,
                                       const ResumePlan& plan);

// One response body into NAME.part, continuing `plan` where it can (download.cpp).
Result<DownloadResult> download_stream(const Url& url, const DownloadOptions& options,
                                       net::ReceiveMethod method, const OutputPlace& place,
                                       const ResumePlan& plan);

}  // namespace zc::http::detail
