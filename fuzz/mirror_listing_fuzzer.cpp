// Feeds arbitrary bytes to the JSON directory listing parser, as a hostile server answering
// `zcopy get -r` would send them, and every name it yields to the path-component check the mirror
// applies before it creates anything. Nothing may crash, and a name the check accepts must be one
// path component: the mirror turns it into a file under the output directory, so a name that
// slipped through could write outside it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "zcopy/http/client/mirror_listing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto listing = zc::http::parse_listing(input);
  if (!listing) {
    if (listing.error().message().empty()) std::abort();
    return 0;
  }
  for (const zc::http::ListingEntry& entry : listing->entries) {
    if (!zc::http::check_entry_name(entry.name)) continue;
    const std::string_view name = entry.name;
    if (name.empty() || name == "." || name == ".." || name.size() > 255) std::abort();
    if (name.find('/') != std::string_view::npos) std::abort();
    if (name.find('\0') != std::string_view::npos) std::abort();
  }
  return 0;
}
