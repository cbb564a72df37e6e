// Fuzzes what the NATS bridge reads from other programs' messages and from the command line: a
// header number parses to a value that prints back as the same text (or is refused), and the
// subject checks never crash, and never accept a wildcard where one may not publish.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "zcopy/nats/exporter.hpp"
#include "zcopy/nats/headers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto number = zc::nats::parse_header_number(text)) {
    // Leading zeros aside, the value prints as the text.
    std::string_view digits = text;
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    if (std::to_string(*number) != digits) std::abort();
  }
  const bool publish = zc::nats::valid_publish_subject(text);
  const bool subscribe = zc::nats::valid_subscribe_subject(text);
  if (publish && (text.find('*') != std::string_view::npos ||
                  text.find('>') != std::string_view::npos || !subscribe)) {
    std::abort();
  }
  return 0;
}
