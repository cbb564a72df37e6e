// Feeds arbitrary bytes, as Link field values, to the parser that turns a server's
// `Link: <URL>; rel=duplicate` fields into more sources for `zcopy get`. Nothing may crash, and
// every mirror it returns is an http or https URL with a host.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "zcopy/http/client/download_sources.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const zc::http::Url kBase = *zc::http::parse_url("http://example.org/dir/file.bin");
  std::vector<std::string> fields;
  std::string field;
  // A NUL separates fields, so one input can hold several.
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      fields.push_back(std::move(field));
      field.clear();
    } else {
      field.push_back(static_cast<char>(data[i]));
    }
  }
  fields.push_back(std::move(field));
  for (const zc::http::Url& url : zc::http::duplicate_links(kBase, fields)) {
    if (url.host.empty()) std::abort();
  }
  return 0;
}
