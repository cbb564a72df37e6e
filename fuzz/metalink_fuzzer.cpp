// Feeds arbitrary bytes to the Metalink parser, as a file given to --metalink or a response
// served as application/metalink4+xml. Nothing may crash or hang; whatever it accepts names only
// files beneath the output directory, sorts each file's URLs by priority, and has piece hashes
// that cover the size exactly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "zcopy/http/client/metalink.hpp"

namespace {

void check(const zc::Result<zc::http::Metalink>& parsed) {
  if (!parsed) {
    if (parsed.error().message().empty()) std::abort();
    return;
  }
  if (parsed->files.empty()) std::abort();
  for (const zc::http::MetalinkFile& file : parsed->files) {
    if (!zc::http::metalink_name_fault(file.name).empty()) std::abort();
    if (file.urls.empty()) std::abort();
    for (std::size_t i = 1; i < file.urls.size(); ++i) {
      if (file.urls[i - 1].priority > file.urls[i].priority) std::abort();
    }
    for (const zc::http::Checksum& hash : file.hashes) {
      if (hash.value.size() != zc::secure::digest_size(hash.algorithm)) std::abort();
    }
    if (file.pieces) {
      if (!file.size || file.pieces->length == 0) std::abort();
      const std::uint64_t count = (*file.size + file.pieces->length - 1) / file.pieces->length;
      if (file.pieces->hashes.size() != count) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(zc::http::parse_metalink(input, "fuzz.meta4"));
  static const zc::http::Url base = *zc::http::parse_url("http://example.org/dir/set.meta4");
  check(zc::http::parse_metalink(input, base.str(), &base));
  return 0;
}
