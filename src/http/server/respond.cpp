#include "respond.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>

#include "zcopy/core/ascii.hpp"
#include "zcopy/http/byte_range.hpp"
#include "zcopy/http/directory_listing.hpp"
#include "zcopy/http/http_date.hpp"
#include "zcopy/http/open_beneath.hpp"
#include "zcopy/http/server/mime_types.hpp"
#include "zcopy/http/url_path.hpp"

namespace zc::http {
namespace {

void start_head(int status, std::string_view date_field, bool close, int version_minor,
                bool keep_alive_10, std::string& head) {
  head.clear();
  head += version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  head += reason_phrase(status);
  head += "\r\nServer: zcopy\r\n";
  head += date_field;
  if (close) {
    head += "Connection: close\r\n";
  } else if (keep_alive_10) {
    head += "Connection: keep-alive\r\n";
  }
}

std::string entity_tag(const struct stat& st) {
  char tag[64];
  const auto mtime_ns = static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1'000'000'000ULL +
                        static_cast<unsigned long long>(st.st_mtim.tv_nsec);
  std::snprintf(tag, sizeof tag, "\"%llx-%llx\"", mtime_ns,
                static_cast<unsigned long long>(st.st_size));
  return tag;
}

std::string_view opaque(std::string_view tag) {
  if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
  return tag;
}

// If-None-Match uses the weak comparison (RFC 9110 13.1.2).
bool none_match_hits(std::string_view list, std::string_view etag) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "*" || opaque(item) == opaque(etag)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool accepts_json(std::string_view accept) {
  for (std::size_t i = 0; i + 16 <= accept.size(); ++i) {
    if (ascii::equals_ignoring_case(accept.substr(i, 16), "application/json")) return true;
  }
  return false;
}

// Repr-Digest when the file's digest is known, and a Link to each mirror of the same path.
void add_file_links(SharedState& shared, int fd, const struct stat& st, const std::string& url_path,
                    std::string& head) {
  if (shared.digests) {
    if (auto base64 = shared.digests->lookup(fd, st)) {
      head += "Repr-Digest: " + repr_digest_field(*base64) + "\r\n";
    }
  }
  for (const std::string& base : shared.options.mirrors) {
    std::string link = base;
    while (!link.empty() && link.back() == '/') link.pop_back();
    head += "Link: <" + link + percent_encode_path(url_path) + ">; rel=duplicate\r\n";
  }
}

}  // namespace

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 416:
      return "Range Not Satisfiable";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

void build_error(int status, bool head_only, bool close, std::string_view date_field, Response& out,
                 std::string_view extra_fields) {
  out.status = status;
  out.close_after = out.close_after || close;
  start_head(status, date_field, out.close_after, 1, false, out.transfer.head);
  const std::string body = std::to_string(status) + " " + std::string(reason_phrase(status)) + "\n";
  out.transfer.head += extra_fields;
  out.transfer.head += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: ";
  out.transfer.head += std::to_string(body.size());
  out.transfer.head += "\r\n\r\n";
  if (!head_only) {
    out.transfer.head += body;
    out.memory_body_bytes = body.size();
  }
}

void build_response(const Request& request, SharedState& shared, std::string_view date_field,
                    Response& out) {
  const int root_fd = shared.root.get();
  out.request_line = request.request_line();
  out.close_after = !request.keep_alive();
  const bool head_only = request.method == "HEAD";
  if (request.has_body) return build_error(413, head_only, true, date_field, out);
  if (request.method != "GET" && !head_only)
    return build_error(405, false, false, date_field, out, "Allow: GET, HEAD\r\n");

  auto target = resolve_target(request.target);
  if (!target) return build_error(target.error(), head_only, false, date_field, out);
  out.path = request.target;  // raw: printable ASCII only, so safe in the error log
  auto fd = open_beneath(root_fd, target->relative, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!fd) return build_error(status_for_open_error(fd.error()), head_only, false, date_field, out);
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return build_error(500, head_only, false, date_field, out);
  const bool keep_alive_10 = request.version_minor == 0 && !out.close_after;

  if (S_ISDIR(st.st_mode)) {
    if (!target->trailing_slash) {
      // From the normalized path, never the raw one: "//dir" would make "//dir/", which a
      // browser reads as a URL of the host "dir".
      std::string location = percent_encode_path(target->url_path);
      if (location.back() != '/') location += '/';
      if (!target->query.empty()) location += "?" + target->query;
      return build_error(301, head_only, false, date_field, out, "Location: " + location + "\r\n");
    }
    auto entries = list_directory(root_fd, target->relative);
    if (!entries)
      return build_error(status_for_open_error(entries.error()), head_only, false, date_field, out);
    const bool json = accepts_json(request.accept);
    const std::string body =
        json ? listing_json(target->url_path, *entries) : listing_html(target->url_path, *entries);
    out.status = 200;
    start_head(200, date_field, out.close_after, request.version_minor, keep_alive_10,
               out.transfer.head);
    out.transfer.head +=
        json ? "Content-Type: application/json\r\n" : "Content-Type: text/html; charset=utf-8\r\n";
    out.transfer.head +=
        "Vary: Accept\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    if (!head_only) {
      out.transfer.head += body;
      out.memory_body_bytes = body.size();
    }
    return;
  }
  if (!S_ISREG(st.st_mode)) return build_error(403, head_only, false, date_field, out);
  // "/file/" names a directory that does not exist.
  if (target->trailing_slash) return build_error(404, head_only, false, date_field, out);

  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::string etag = entity_tag(st);
  const std::int64_t mtime = st.st_mtim.tv_sec;
  const std::string last_modified = format_http_date(mtime);

  // Conditionals (RFC 9110 13.2.2): If-None-Match wins over If-Modified-Since.
  bool not_modified = false;
  if (!request.if_none_match.empty()) {
    not_modified = none_match_hits(request.if_none_match, etag);
  } else if (!request.if_modified_since.empty()) {
    const auto since = parse_http_date(request.if_modified_since);
    not_modified = since && mtime <= *since;
  }
  if (not_modified) {
    out.status = 304;
    start_head(304, date_field, out.close_after, request.version_minor, keep_alive_10,
               out.transfer.head);
    out.transfer.head += "ETag: " + etag + "\r\nLast-Modified: " + last_modified + "\r\n\r\n";
    return;
  }

  RangeRequest range;
  if (!request.range.empty()) {
    bool use_range = true;
    if (!request.if_range.empty()) {
      // A stale validator means the client's partial copy is of another version: send it all.
      if (request.if_range.front() == '"') {
        use_range = request.if_range == etag;
      } else {
        const auto date = parse_http_date(request.if_range);
        use_range = date && *date == mtime;
      }
    }
    if (use_range) range = parse_range(request.range, size);
  }
  if (range.kind == RangeRequest::Kind::unsatisfiable) {
    return build_error(416, head_only, false, date_field, out,
                       "Content-Range: bytes */" + std::to_string(size) + "\r\n");
  }
  const bool partial = range.kind == RangeRequest::Kind::satisfiable;
  const std::uint64_t first = partial ? range.first : 0;
  const std::uint64_t length = partial ? range.length() : size;
  out.status = partial ? 206 : 200;
  start_head(out.status, date_field, out.close_after, request.version_minor, keep_alive_10,
             out.transfer.head);
  out.transfer.head += "Content-Type: ";
  out.transfer.head += mime_type(target->relative);
  out.transfer.head += "\r\nContent-Length: " + std::to_string(length);
  if (partial) {
    out.transfer.head += "\r\nContent-Range: bytes " + std::to_string(first) + "-" +
                         std::to_string(range.last) + "/" + std::to_string(size);
  }
  out.transfer.head +=
      "\r\nLast-Modified: " + last_modified + "\r\nETag: " + etag + "\r\nAccept-Ranges: bytes\r\n";
  add_file_links(shared, fd->get(), st, target->url_path, out.transfer.head);
  out.transfer.head += "\r\n";
  if (!head_only && length > 0) {
    out.transfer.file = std::move(*fd);
    out.transfer.offset = first;
    out.transfer.end = first + length;
  }
}

}  // namespace zc::http
