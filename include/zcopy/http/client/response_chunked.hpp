// zcopy/http/client/response_chunked.hpp: decodes a chunked response body incrementally.
//
// A chunked body interleaves size lines with the data, so it cannot be spliced straight from the
// socket into the file: it passes through user memory here, and the transfer's ledger says so.
//
//   zc::http::ChunkedDecoder decoder;
//   while (!decoder.done()) {
//     std::string_view input = read_some();
//     auto taken = decoder.feed(input, [&](std::string_view data) { return write(data); });
//     ...  // input.substr(*taken) is not part of the body
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"

namespace zc::http {

class ChunkedDecoder {
 public:
  using Sink = std::function<Result<void>(std::string_view data)>;

  // Consumes as much of `input` as belongs to the body, passing decoded data to `sink`. Returns
  // the bytes consumed: all of `input` unless the body ended inside it.
  Result<std::size_t> feed(std::string_view input, const Sink& sink);

  bool done() const noexcept { return state_ == State::done; }
  std::uint64_t decoded_bytes() const noexcept { return decoded_; }

 private:
  enum class State { size_line, data, data_end, trailer, done };
  static constexpr std::size_t kMaxLine = 4096;

  Result<void> finish_size_line();

  State state_ = State::size_line;
  std::string line_;  // a size or trailer line being assembled
  std::uint64_t remaining_ = 0;
  std::uint64_t decoded_ = 0;
};

}  // namespace zc::http
