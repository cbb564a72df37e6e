// zcopy/http/client/mirror_listing.hpp: the JSON directory listing `zcopy serve` answers for
// `Accept: application/json`, parsed strictly, and the check every entry name must pass.
//
//   {"path":"/sub/","entries":[{"name":"a.txt","type":"file","size":123,"mtime":1700000000},
//                              {"name":"d","type":"dir","mtime":1700000000}]}
//
// A name becomes one path component under the output directory, so anything that could escape
// it or confuse the file system ("", ".", "..", '/', NUL) is refused with an error naming it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/http/directory_listing.hpp"  // ListingEntry, as serve writes it

namespace zc::http {

struct Listing {
  std::string path;
  std::vector<ListingEntry> entries;
};

Result<Listing> parse_listing(std::string_view json);

// Whether `name` may be used as a single path component; the error names the entry.
Result<void> check_entry_name(std::string_view name);

}  // namespace zc::http
