// Feeds arbitrary bytes to the response head parser, then what follows the head to the chunked
// decoder, as a hostile server would send them. Nothing may crash; an accepted head must have
// consumed bytes it was given and carry a framing that is not ambiguous; the decoder must never
// claim more bytes than it was fed nor decode more than it consumed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "zcopy/http/client/response.hpp"
#include "zcopy/http/client/response_chunked.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = zc::http::parse_response_head(input);
  if (!parsed) {
    if (parsed.error().message().empty()) std::abort();
    return 0;
  }
  if (!*parsed) return 0;
  const zc::http::ParsedHead& head = **parsed;
  if (head.head_size > input.size() || head.head_size < 16) std::abort();
  if (head.head.chunked && head.head.content_length) std::abort();
  if (head.head.status < 100 || head.head.status > 599) std::abort();
  if (head.head.content_range && head.head.content_range->last < head.head.content_range->first) {
    std::abort();
  }

  // Whatever follows the head is treated as a chunked body, fed in two uneven pieces.
  std::string_view body = input.substr(head.head_size);
  zc::http::ChunkedDecoder decoder;
  std::size_t delivered = 0;
  const zc::http::ChunkedDecoder::Sink sink = [&](std::string_view piece) -> zc::Result<void> {
    delivered += piece.size();
    return {};
  };
  std::size_t consumed = 0;
  for (std::string_view piece : {body.substr(0, body.size() / 3), body.substr(body.size() / 3)}) {
    if (decoder.done()) break;
    auto used = decoder.feed(piece, sink);
    if (!used) return 0;
    if (*used > piece.size()) std::abort();
    consumed += *used;
    if (*used < piece.size() && !decoder.done()) std::abort();
  }
  if (delivered > consumed || delivered != decoder.decoded_bytes()) std::abort();
  return 0;
}
