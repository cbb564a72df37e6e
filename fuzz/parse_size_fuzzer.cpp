// Fuzzes the size parser behind every --size option: any text gives a value or a clean error, and
// a value, printed back without fraction, parses to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "zcopy/core/units.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = zc::parse_size(text);
  if (!parsed) {
    if (parsed.error().message().empty()) std::abort();
    return 0;
  }
  const auto again = zc::parse_size(std::to_string(*parsed));
  if (!again || *again != *parsed) std::abort();
  return 0;
}
