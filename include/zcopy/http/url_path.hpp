// zcopy/http/url_path.hpp: from a request-target to a path beneath the served directory, and back.
//
//   auto p = zc::http::resolve_target("/a%20b/c.txt?x=1");
//   // p->relative == "a b/c.txt", p->url_path == "/a b/c.txt", p->trailing_slash == false
//
// This is the first of two walls around the served directory: it refuses `..` segments (also
// percent-encoded), NUL bytes and anything that is not origin-form. The second wall is the open
// itself (open_beneath), which the kernel confines to the directory whatever symlinks say.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace zc::http {

struct TargetPath {
  std::string relative;  // "." for the root, else "a/b" without leading or trailing '/'
  std::string url_path;  // the decoded path as the client sees it ("/a b/")
  std::string raw_path;  // the path part of the target, still encoded ("/a%20b/")
  std::string query;     // after '?', without it; empty when absent
  bool trailing_slash = false;
};

// On failure, the status to answer: 400 for a malformed target, 403 for traversal or NUL.
std::expected<TargetPath, int> resolve_target(std::string_view target);

// Percent-encodes every byte outside RFC 3986's unreserved set and '/', for links and Location.
std::string percent_encode_path(std::string_view path);

}  // namespace zc::http
