#include "zcopy/http/url_path.hpp"

#include "zcopy/core/ascii.hpp"

namespace zc::http {
namespace {}  // namespace

std::expected<TargetPath, int> resolve_target(std::string_view target) {
  // Origin-form only: absolute-form is for proxies, and "*" only for OPTIONS.
  if (target.empty() || target.front() != '/') return std::unexpected(400);
  TargetPath out;
  const std::size_t query = target.find('?');
  std::string_view raw = target.substr(0, query);
  if (query != std::string_view::npos) out.query.assign(target.substr(query + 1));
  if (const std::size_t hash = raw.find('#'); hash != std::string_view::npos)
    return std::unexpected(400);
  out.raw_path.assign(raw);

  std::string decoded;
  decoded.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      decoded += raw[i];
      continue;
    }
    if (i + 2 >= raw.size()) return std::unexpected(400);
    const int hi = ascii::hex_digit_value(raw[i + 1]);
    const int lo = ascii::hex_digit_value(raw[i + 2]);
    if (hi < 0 || lo < 0) return std::unexpected(400);
    const char byte = static_cast<char>(hi * 16 + lo);
    if (byte == '\0') return std::unexpected(403);
    decoded += byte;
    i += 2;
  }
  out.trailing_slash = decoded.back() == '/';

  // Segments: empty and "." vanish; ".." is refused rather than resolved, so no spelling of
  // traversal can climb, even inside the tree.
  std::string_view rest = decoded;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") return std::unexpected(403);
    if (!out.relative.empty()) out.relative += '/';
    out.relative.append(segment);
  }
  out.url_path = "/" + out.relative;
  if (out.relative.empty()) {
    out.relative = ".";
  } else if (out.trailing_slash) {
    out.url_path += '/';
  }
  return out;
}

std::string percent_encode_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                            (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_' ||
                            u == '~' || u == '/';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace zc::http
