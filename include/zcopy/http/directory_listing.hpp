// zcopy/http/directory_listing.hpp: what a directory URL shows, as HTML or as JSON.
//
// The JSON form is the interface `zcopy get -r` mirrors from; it is exactly
//   {"path":"/sub/","entries":[{"name":"a.txt","type":"file","size":123,"mtime":1700000000},
//                              {"name":"d","type":"dir","mtime":1700000000}]}
// with mtime in whole seconds since the epoch. Only regular files and directories are listed.
// Symlinks are looked up beneath the served root: those that stay inside are shown as what they
// point to, those that leave it (or dangle) are left out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc::http {

struct ListingEntry {
  std::string name;
  bool directory = false;
  std::uint64_t size = 0;  // files only
  std::int64_t mtime = 0;  // seconds since the epoch
};

// The entries of `relative` (as resolve_target gives it) beneath `root_fd`, sorted by name.
Result<std::vector<ListingEntry>> list_directory(int root_fd, const std::string& relative);

// `url_path` is the decoded directory path ending in '/'.
std::string listing_json(std::string_view url_path, const std::vector<ListingEntry>& entries);
std::string listing_html(std::string_view url_path, const std::vector<ListingEntry>& entries);

}  // namespace zc::http
