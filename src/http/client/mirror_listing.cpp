#include "zcopy/http/client/mirror_listing.hpp"

#include <limits>

namespace zc::http {
namespace {

// A small strict JSON reader: just enough to walk the listing, refusing anything malformed.
class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : text_(text) {}

  std::unexpected<Error> error(const std::string& what) const {
    return fail(Errc::corrupt, "parse directory listing", what + " at byte " + std::to_string(at_));
  }

  void skip_space() {
    while (at_ < text_.size() &&
           (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t')) {
      ++at_;
    }
  }
  bool consume(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  bool at_end() {
    skip_space();
    return at_ == text_.size();
  }
  char peek() {
    skip_space();
    return at_ < text_.size() ? text_[at_] : '\0';
  }

  Result<std::string> string() {
    if (!consume('"')) return error("expected a string");
    std::string out;
    while (at_ < text_.size()) {
      const char c = text_[at_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return error("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (at_ >= text_.size()) break;
      const char e = text_[at_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          auto code = hex4();
          if (!code) return std::unexpected(code.error());
          append_utf8(out, *code);
          break;
        }
        default:
          return error("bad escape in string");
      }
    }
    return error("unterminated string");
  }

  Result<std::int64_t> integer() {
    skip_space();
    const std::size_t start = at_;
    bool negative = false;
    if (at_ < text_.size() && text_[at_] == '-') {
      negative = true;
      ++at_;
    }
    std::uint64_t value = 0;
    std::size_t digits = 0;
    while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
      if (digits++ >= 18) return error("number too large");
      value = value * 10 + static_cast<std::uint64_t>(text_[at_++] - '0');
    }
    if (digits == 0) {
      at_ = start;
      return error("expected an integer");
    }
    if (at_ < text_.size() && (text_[at_] == '.' || text_[at_] == 'e' || text_[at_] == 'E')) {
      return error("expected an integer, got a fraction");
    }
    const auto signed_value = static_cast<std::int64_t>(value);
    return negative ? -signed_value : signed_value;
  }

  // Skips any value (for fields we do not use), bounded in depth.
  Result<void> skip_value(int depth = 0) {
    if (depth > 32) return error("nesting too deep");
    const char c = peek();
    if (c == '"') {
      auto s = string();
      if (!s) return std::unexpected(s.error());
      return {};
    }
    if (c == '{' || c == '[') {
      const char close = c == '{' ? '}' : ']';
      ++at_;
      if (consume(close)) return {};
      do {
        if (c == '{') {
          auto key = string();
          if (!key) return std::unexpected(key.error());
          if (!consume(':')) return error("expected ':'");
        }
        if (auto r = skip_value(depth + 1); !r) return r;
      } while (consume(','));
      if (!consume(close)) return error("expected ',' or a closing bracket");
      return {};
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(at_).starts_with(word)) {
        at_ += word.size();
        return {};
      }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      ++at_;
      while (at_ < text_.size() &&
             std::string_view("0123456789.eE+-").find(text_[at_]) != std::string_view::npos) {
        ++at_;
      }
      return {};
    }
    return error("expected a value");
  }

 private:
  Result<unsigned> hex4() {
    if (at_ + 4 > text_.size()) return error("truncated \\u escape");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[at_++];
      unsigned v = 0;
      if (h >= '0' && h <= '9')
        v = static_cast<unsigned>(h - '0');
      else if (h >= 'a' && h <= 'f')
        v = static_cast<unsigned>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        v = static_cast<unsigned>(h - 'A' + 10);
      else
        return error("bad \\u escape");
      code = code * 16 + v;
    }
    return code;
  }
  static void append_utf8(std::string& out, unsigned code) {
    // Surrogates are kept as their own 3-byte forms: names are checked, not interpreted.
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xC0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (code & 0x3F));
    }
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

Result<ListingEntry> parse_entry(JsonReader& in) {
  if (!in.consume('{')) return in.error("expected an entry object");
  ListingEntry entry;
  bool has_name = false, has_type = false, has_size = false, has_mtime = false;
  if (!in.consume('}')) {
    do {
      auto key = in.string();
      if (!key) return std::unexpected(key.error());
      if (!in.consume(':')) return in.error("expected ':'");
      if (*key == "name") {
        auto name = in.string();
        if (!name) return std::unexpected(name.error());
        entry.name = std::move(*name);
        has_name = true;
      } else if (*key == "type") {
        auto type = in.string();
        if (!type) return std::unexpected(type.error());
        if (*type != "file" && *type != "dir")
          return in.error("unknown entry type '" + *type + "'");
        entry.directory = *type == "dir";
        has_type = true;
      } else if (*key == "size" || *key == "mtime") {
        auto value = in.integer();
        if (!value) return std::unexpected(value.error());
        if (*key == "size") {
          if (*value < 0) return in.error("negative size");
          entry.size = static_cast<std::uint64_t>(*value);
          has_size = true;
        } else {
          entry.mtime = *value;
          has_mtime = true;
        }
      } else if (auto r = in.skip_value(); !r) {
        return std::unexpected(r.error());
      }
    } while (in.consume(','));
    if (!in.consume('}')) return in.error("expected ',' or '}' in an entry");
  }
  if (!has_name || !has_type || !has_mtime || (!entry.directory && !has_size)) {
    return in.error("entry '" + entry.name + "' lacks name, type, size or mtime");
  }
  return entry;
}

}  // namespace

Result<void> check_entry_name(std::string_view name) {
  auto refuse = [&](const char* why) {
    std::string shown;
    for (char c : name) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
    return fail(Errc::rejected, "mirror entry '" + shown + "'", why);
  };
  if (name.empty()) return refuse("empty name");
  if (name == "." || name == "..") return refuse("name would leave its directory");
  if (name.find('/') != std::string_view::npos) return refuse("name contains '/'");
  if (name.find('\0') != std::string_view::npos) return refuse("name contains NUL");
  if (name.size() > 255) return refuse("name longer than 255 bytes");
  return {};
}

Result<Listing> parse_listing(std::string_view json) {
  JsonReader in(json);
  Listing listing;
  bool has_entries = false;
  if (!in.consume('{')) return in.error("expected a JSON object");
  if (!in.consume('}')) {
    do {
      auto key = in.string();
      if (!key) return std::unexpected(key.error());
      if (!in.consume(':')) return in.error("expected ':'");
      if (*key == "path") {
        auto path = in.string();
        if (!path) return std::unexpected(path.error());
        listing.path = std::move(*path);
      } else if (*key == "entries") {
        if (!in.consume('[')) return in.error("expected an entries array");
        has_entries = true;
        if (!in.consume(']')) {
          do {
            auto entry = parse_entry(in);
            if (!entry) return std::unexpected(entry.error());
            listing.entries.push_back(std::move(*entry));
          } while (in.consume(','));
          if (!in.consume(']')) return in.error("expected ',' or ']' in entries");
        }
      } else if (auto r = in.skip_value(); !r) {
        return std::unexpected(r.error());
      }
    } while (in.consume(','));
    if (!in.consume('}')) return in.error("expected ',' or '}'");
  }
  if (!in.at_end()) return in.error("trailing bytes after the listing");
  if (!has_entries) return in.error("no \"entries\" array");
  return listing;
}

}  // namespace zc::http
