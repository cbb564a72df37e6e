// src/http/client/source_probe.hpp: what one source of a multi-source download says about the
// file (a HEAD request), and whether it agrees with the others.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "download_steps.hpp"

namespace zc::http::detail {

struct SourceProbe {
  Url url;        // as given
  Url final_url;  // after redirects: where the ranges are asked for
  std::uint64_t size = 0;
  std::string etag;                // empty when none
  std::string last_modified;       // empty when none
  std::vector<std::string> links;  // the Link field values
  ResponseHead head;               // for the digest fields of the first source
  std::string problem;             // empty when usable; else why it is not
};

// HEADs `url` (following redirects); a source that cannot be used gets its `problem`.
SourceProbe probe_source(const Url& url, const DownloadOptions& options);

// Empty when `probe` describes the file `reference` does, else why not (size, Last-Modified, or
// a strong ETag where a Last-Modified is missing to compare).
std::string disagreement(const SourceProbe& probe, const PartRecord& reference);

// The value to send in If-Range to this source: its strong ETag, else its Last-Modified.
std::string if_range_for(const SourceProbe& probe);

}  // namespace zc::http::detail
