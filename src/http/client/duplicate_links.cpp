// Link field values (RFC 8288) with rel=duplicate (RFC 6249): the mirrors a server names for the
// file it sends. Only what we use is parsed: `<URI>` and a rel parameter, token or quoted, whose
// space-separated relation types include "duplicate".
#include <algorithm>
#include <cctype>
#include <string_view>

#include "zcopy/http/client/download_sources.hpp"

namespace zc::http {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool relation_includes_duplicate(std::string_view value) {
  std::size_t at = 0;
  while (at < value.size()) {
    const std::size_t end = std::min(value.find(' ', at), value.size());
    if (lower(value.substr(at, end - at)) == "duplicate") return true;
    at = end + 1;
  }
  return false;
}

// The parameters after `<URI>` up to the next link-value: whether one says rel=duplicate.
// `text` starts after the '>'; on return `at` is past the comma that ends this link-value.
bool parse_params(std::string_view text, std::size_t& at) {
  bool duplicate = false;
  while (at < text.size()) {
    const char c = text[at];
    if (c == ',') {
      ++at;
      break;
    }
    if (c != ';') {
      ++at;
      continue;
    }
    ++at;
    std::size_t end = at;
    while (end < text.size() && text[end] != '=' && text[end] != ';' && text[end] != ',') ++end;
    const std::string name = lower(trim(text.substr(at, end - at)));
    at = end;
    if (at >= text.size() || text[at] != '=') continue;
    ++at;
    while (at < text.size() && text[at] == ' ') ++at;
    std::string_view value;
    if (at < text.size() && text[at] == '"') {
      const std::size_t close = text.find('"', at + 1);
      if (close == std::string_view::npos) return false;  // unterminated: drop the rest
      value = text.substr(at + 1, close - at - 1);
      at = close + 1;
    } else {
      end = at;
      while (end < text.size() && text[end] != ';' && text[end] != ',') ++end;
      value = trim(text.substr(at, end - at));
      at = end;
    }
    if (name == "rel" && relation_includes_duplicate(value)) duplicate = true;
  }
  return duplicate;
}

}  // namespace

std::vector<Url> duplicate_links(const Url& base, std::span<const std::string> link_values) {
  std::vector<Url> links;
  for (const std::string& field : link_values) {
    const std::string_view text = field;
    std::size_t at = 0;
    while (at < text.size()) {
      const std::size_t open = text.find('<', at);
      if (open == std::string_view::npos) break;
      const std::size_t close = text.find('>', open + 1);
      if (close == std::string_view::npos) break;
      const std::string_view target = text.substr(open + 1, close - open - 1);
      at = close + 1;
      if (!parse_params(text, at)) continue;
      if (auto url = resolve_location(base, target)) links.push_back(std::move(*url));
    }
  }
  return links;
}

}  // namespace zc::http
