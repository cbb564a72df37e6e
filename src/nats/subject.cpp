// src/nats/subject.cpp: NATS subject syntax, checked before the server sees it so that a typo is
// a usage error rather than a permission violation reported later.
#include <string_view>

#include "zcopy/nats/exporter.hpp"

namespace zc::nats {
namespace {

bool valid_tokens(std::string_view subject, bool wildcards) noexcept {
  if (subject.empty() || subject.size() > 4096) return false;
  std::size_t from = 0;
  for (;;) {
    const std::size_t dot = subject.find('.', from);
    const std::string_view token =
        subject.substr(from, dot == std::string_view::npos ? std::string_view::npos : dot - from);
    if (token.empty()) return false;
    for (char c : token) {
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0') return false;
    }
    const bool wildcard = token == "*" || token == ">";
    if (!wildcards && token.find_first_of("*>") != std::string_view::npos) return false;
    if (wildcards && !wildcard && token.find_first_of("*>") != std::string_view::npos) {
      return false;
    }
    if (token == ">" && dot != std::string_view::npos) return false;  // '>' only at the end
    if (dot == std::string_view::npos) return true;
    from = dot + 1;
  }
}

}  // namespace

bool valid_publish_subject(std::string_view subject) noexcept {
  return valid_tokens(subject, false);
}

bool valid_subscribe_subject(std::string_view subject) noexcept {
  return valid_tokens(subject, true);
}

}  // namespace zc::nats
