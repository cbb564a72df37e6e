// Feeds arbitrary bytes to the parsers of the Repr-Digest and Digest fields a server sends, whose
// value decides whether `zcopy get` renames a download. Nothing may crash; a digest the parsers
// accept has exactly its algorithm's length and survives a round trip through base64.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "zcopy/http/client/checksum.hpp"

namespace {

void check(const zc::Result<std::optional<zc::http::Checksum>>& parsed) {
  if (!parsed) {
    if (parsed.error().message().empty()) std::abort();
    return;
  }
  if (!*parsed) return;
  const zc::http::Checksum& c = **parsed;
  if (c.value.size() != zc::secure::digest_size(c.algorithm)) std::abort();
  if (zc::secure::from_base64(zc::secure::to_base64(c.value)) != c.value) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check(zc::http::parse_repr_digest(input));
  check(zc::http::parse_digest_field(input));
  (void)zc::http::parse_checksum(input);
  return 0;
}
