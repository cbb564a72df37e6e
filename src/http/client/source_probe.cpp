#include "source_probe.hpp"

#include <strings.h>

namespace zc::http::detail {
namespace {

bool strong(const std::string& etag) {
  return !etag.empty() && !etag.starts_with("W/");
}

}  // namespace

SourceProbe probe_source(const Url& url, const DownloadOptions& options) {
  SourceProbe probe;
  probe.url = url;
  probe.final_url = url;
  RequestOptions request;
  request.method = "HEAD";
  auto fetched = fetch_following(url, options, request);
  if (!fetched) {
    probe.problem = fetched.error().message();
    return probe;
  }
  probe.final_url = fetched->url;
  const ResponseHead& head = fetched->response.head;
  for (const auto& [name, value] : head.headers) {
    if (::strcasecmp(name.c_str(), "Link") == 0) probe.links.push_back(value);
  }
  if (head.status != 200) {
    probe.problem = "HTTP " + std::to_string(head.status) + " " + head.reason;
    return probe;
  }
  if (!head.content_length) {
    probe.problem = "no Content-Length: the size is unknown";
    return probe;
  }
  const std::string* ranges = head.header("Accept-Ranges");
  if (ranges == nullptr || *ranges != "bytes") {
    // Such a server answers a Range request with the whole body (python3 -m http.server does),
    // which must never land at a range's offset.
    probe.problem = "offers no byte ranges (no Accept-Ranges: bytes)";
    return probe;
  }
  probe.size = *head.content_length;
  PartRecord validators;
  take_validators(head, validators);
  probe.etag = validators.etag;
  probe.last_modified = validators.last_modified;
  probe.head = head;
  return probe;
}

std::string disagreement(const SourceProbe& probe, const PartRecord& reference) {
  if (reference.size && probe.size != *reference.size) {
    return "size " + std::to_string(probe.size) + ", not " + std::to_string(*reference.size);
  }
  const bool both_dated = !probe.last_modified.empty() && !reference.last_modified.empty();
  if (both_dated && probe.last_modified != reference.last_modified) {
    return "Last-Modified " + probe.last_modified + ", not " + reference.last_modified;
  }
  // Each server program forms its ETags its own way, so only a source without a date to compare
  // is held to the ETag.
  const bool undated = probe.last_modified.empty() || reference.last_modified.empty();
  if (undated && strong(probe.etag) && strong(reference.etag) && probe.etag != reference.etag) {
    return "ETag " + probe.etag + ", not " + reference.etag;
  }
  return {};
}

std::string if_range_for(const SourceProbe& probe) {
  if (strong(probe.etag)) return probe.etag;
  return probe.last_modified;
}

}  // namespace zc::http::detail
