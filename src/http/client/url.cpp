#include "zcopy/http/client/url.hpp"

#include <charconv>
#include <vector>

#include "zcopy/net/endpoint.hpp"

namespace zc::http {
namespace {

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Encodes bytes a request line cannot carry (space, quotes, non-ASCII, ...) and checks escapes.
Result<std::string> normalise_target(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c < 0x20 || c == 0x7f) {
      return fail(Errc::invalid_argument, "parse URL", "control character in path");
    }
    if (c == '%') {
      if (i + 2 >= raw.size()) {
        return fail(Errc::invalid_argument, "parse URL", "truncated %-escape in path");
      }
      if (hex_value(raw[i + 1]) < 0 || hex_value(raw[i + 2]) < 0) {
        return fail(Errc::invalid_argument, "parse URL", "bad %-escape in path");
      }
      out.append(raw.substr(i, 3));
      i += 2;
      continue;
    }
    if (c > 0x7e || c == ' ' || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
        c == '`' || c == '{' || c == '|' || c == '}') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
      continue;
    }
    out += static_cast<char>(c);
  }
  return out;
}

// Removes "." and ".." segments (RFC 3986 5.2.4) from an absolute path; the query is untouched.
std::string remove_dot_segments(std::string_view target) {
  const std::size_t query = target.find('?');
  const std::string_view path = target.substr(0, query);
  std::vector<std::string_view> kept;
  std::size_t from = 1;
  bool trailing_slash = false;
  while (from <= path.size()) {
    const std::size_t slash = std::min(path.find('/', from), path.size());
    const std::string_view segment = path.substr(from, slash - from);
    const bool last = slash == path.size();
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
      trailing_slash = last;
    } else if (segment == ".") {
      trailing_slash = last;
    } else {
      kept.push_back(segment);
      trailing_slash = false;
    }
    from = slash + 1;
  }
  std::string out;
  for (std::string_view segment : kept) {
    out += '/';
    out += segment;
  }
  if (out.empty() || trailing_slash) out += '/';
  if (query != std::string_view::npos) out += target.substr(query);
  return out;
}

}  // namespace

std::string Url::authority() const {
  std::string text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != default_port()) text += ":" + std::to_string(port);
  return text;
}

std::string Url::str() const {
  return (tls ? "https://" : "http://") + authority() + target;
}

std::string Url::file_name() const {
  const std::string_view path = std::string_view(target).substr(0, target.find('?'));
  const std::string_view last = path.substr(path.rfind('/') + 1);
  auto decoded = percent_decode(last);
  return decoded ? *decoded : std::string(last);
}

Result<Url> parse_url(std::string_view text) {
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return fail(Errc::invalid_argument, "parse URL '" + std::string(text) + "'",
                "expected http[s]://host[:port]/path");
  }
  std::string scheme(text.substr(0, scheme_end));
  for (char& c : scheme) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (scheme != "http" && scheme != "https") {
    return fail(Errc::invalid_argument, "parse URL '" + std::string(text) + "'",
                "unsupported scheme '" + scheme + "' (only http:// and https://)");
  }
  const bool tls = scheme == "https";
  std::string_view rest = text.substr(scheme_end + 3);
  const std::size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target =
      path_start == std::string_view::npos ? std::string_view("/") : rest.substr(path_start);
  if (const std::size_t hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);  // fragments never reach the server
  }
  if (authority.find('@') != std::string_view::npos) {
    return fail(Errc::invalid_argument, "parse URL '" + std::string(text) + "'",
                "user info (user@host) is not supported");
  }
  if (authority.empty()) {
    return fail(Errc::invalid_argument, "parse URL '" + std::string(text) + "'", "no host");
  }
  auto endpoint = net::parse_endpoint(authority, tls ? 443 : 80);
  if (!endpoint) return std::unexpected(std::move(endpoint.error()).with_context("parse URL"));
  if (endpoint->host.empty() || endpoint->port == 0) {
    return fail(Errc::invalid_argument, "parse URL '" + std::string(text) + "'",
                "bad host or port");
  }
  Url url;
  url.tls = tls;
  url.host = endpoint->host;
  url.port = endpoint->port;
  std::string with_slash =
      target.empty() || target.front() != '/' ? "/" + std::string(target) : std::string(target);
  auto normalised = normalise_target(with_slash);
  if (!normalised) return std::unexpected(normalised.error());
  url.target = remove_dot_segments(*normalised);
  return url;
}

Result<Url> resolve_location(const Url& base, std::string_view location) {
  if (location.empty()) {
    return fail(Errc::corrupt, "follow redirect", "empty Location header");
  }
  if (location.find("://") != std::string_view::npos) return parse_url(location);
  if (location.starts_with("//")) {
    return parse_url((base.tls ? "https:" : "http:") + std::string(location));
  }
  Url next = base;
  std::string target;
  if (location.front() == '/') {
    target = std::string(location);
  } else {
    const std::string_view path = std::string_view(base.target).substr(0, base.target.find('?'));
    target = std::string(path.substr(0, path.rfind('/') + 1)) + std::string(location);
  }
  if (const std::size_t hash = target.find('#'); hash != std::string::npos) target.resize(hash);
  auto normalised = normalise_target(target);
  if (!normalised) return std::unexpected(normalised.error());
  next.target = remove_dot_segments(*normalised);
  return next;
}

Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) {
      return fail(Errc::invalid_argument, "percent-decode", "truncated %-escape");
    }
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return fail(Errc::invalid_argument, "percent-decode", "bad %-escape");
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

std::string percent_encode_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    if (is_unreserved(c)) {
      out += c;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    out += '%';
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

}  // namespace zc::http
