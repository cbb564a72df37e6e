// Feeds arbitrary bytes to the parser of OUTPUT.part.zcopy, the record `zcopy get --continue`
// trusts to say which bytes of a .part are data. A record may be cut short, hand-edited or left by
// anything; nothing may crash, and a record the parser accepts must be one resume can follow
// safely: ranges that tile the size exactly, progress within each range, values without control
// bytes (they go into If-Range), and the same record again once formatted and re-read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "zcopy/http/client/part_record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto record = zc::http::parse_part_record(input);
  if (!record) {
    if (record.error().message().empty()) std::abort();
    return 0;
  }
  std::uint64_t next = 0;
  for (const zc::http::PartRange& r : record->ranges) {
    if (r.first != next || r.last < r.first || r.done > r.length()) std::abort();
    next = r.last + 1;
  }
  if (!record->ranges.empty() && next != record->size.value_or(0)) std::abort();
  for (const char c : record->if_range()) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
  }
  auto again = zc::http::parse_part_record(zc::http::format_part_record(*record));
  if (!again || zc::http::format_part_record(*again) != zc::http::format_part_record(*record)) {
    std::abort();
  }
  return 0;
}
