#include "zcopy/http/client/response_chunked.hpp"

#include <algorithm>

namespace zc::http {
namespace {

std::unexpected<Error> malformed(std::string detail) {
  return fail(Errc::corrupt, "decode chunked body", std::move(detail));
}

}  // namespace

Result<void> ChunkedDecoder::finish_size_line() {
  // "1a2b" or "1a2b;name=value": hex digits, then optional extensions we ignore.
  std::string_view text = line_;
  const std::size_t semicolon = text.find(';');
  std::string_view digits = text.substr(0, semicolon);
  while (!digits.empty() && (digits.back() == ' ' || digits.back() == '\t')) {
    digits.remove_suffix(1);
  }
  if (digits.empty() || digits.size() > 15) return malformed("bad chunk size line");
  std::uint64_t size = 0;
  for (char c : digits) {
    int value = -1;
    if (c >= '0' && c <= '9') value = c - '0';
    if (c >= 'a' && c <= 'f') value = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') value = c - 'A' + 10;
    if (value < 0) return malformed("bad chunk size '" + std::string(digits) + "'");
    size = size * 16 + static_cast<std::uint64_t>(value);
  }
  line_.clear();
  remaining_ = size;
  state_ = size == 0 ? State::trailer : State::data;
  return {};
}

Result<std::size_t> ChunkedDecoder::feed(std::string_view input, const Sink& sink) {
  std::size_t used = 0;
  while (used < input.size() && state_ != State::done) {
    const char c = input[used];
    switch (state_) {
      case State::size_line:
      case State::trailer:
      case State::data_end: {
        ++used;
        if (c != '\n') {
          if (line_.size() >= kMaxLine) return malformed("chunk line too long");
          line_ += c;
          continue;
        }
        if (line_.empty() || line_.back() != '\r') return malformed("line without CRLF");
        line_.pop_back();
        if (state_ == State::size_line) {
          if (auto r = finish_size_line(); !r) return std::unexpected(r.error());
        } else if (state_ == State::data_end) {
          if (!line_.empty()) return malformed("chunk data longer than its size");
          state_ = State::size_line;
        } else {
          // Trailer fields are read and dropped; the empty line ends the body.
          if (line_.empty()) state_ = State::done;
          line_.clear();
        }
        break;
      }
      case State::data: {
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - used));
        if (auto r = sink(input.substr(used, take)); !r) return std::unexpected(r.error());
        used += take;
        remaining_ -= take;
        decoded_ += take;
        if (remaining_ == 0) state_ = State::data_end;
        break;
      }
      case State::done:
        break;
    }
  }
  return used;
}

}  // namespace zc::http
