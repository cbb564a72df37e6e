#include "zcopy/http/client/metalink.hpp"

#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <memory>
#include <mutex>
#include <set>

#include "zcopy/core/ascii.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::http {
namespace {

constexpr std::string_view kNamespace = "urn:ietf:params:xml:ns:metalink";
constexpr unsigned kLowestPriority = 999999;

struct DocFree {
  void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
struct ContextFree {
  void operator()(xmlParserCtxt* context) const noexcept { xmlFreeParserCtxt(context); }
};
struct XmlFree {
  void operator()(xmlChar* text) const noexcept { xmlFree(text); }
};
using XmlText = std::unique_ptr<xmlChar, XmlFree>;

std::string_view view(const xmlChar* text) {
  return text ? std::string_view(reinterpret_cast<const char*>(text)) : std::string_view();
}

std::string_view trimmed(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

// A Metalink 4 element of this name (elements of other namespaces are extensions, skipped).
bool is_element(const xmlNode* node, std::string_view name) {
  return node->type == XML_ELEMENT_NODE && node->ns != nullptr &&
         view(node->ns->href) == kNamespace && view(node->name) == name;
}

std::optional<std::string> attribute(const xmlNode* node, const char* name) {
  XmlText value(xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name)));
  if (!value) return std::nullopt;
  return std::string(view(value.get()));
}

std::string content(const xmlNode* node) {
  XmlText value(xmlNodeGetContent(node));
  return std::string(trimmed(view(value.get())));
}

std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  if (text.empty() || text.front() == '+' || text.front() == '-') return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// Collects the faults of one document: the first one ends the parse.
class Reader {
 public:
  Reader(std::string_view origin, const Url* base) : origin_(origin), base_(base) {}

  std::unexpected<Error> refuse(const std::string& why) const {
    return fail(Errc::corrupt, "metalink " + origin_, why);
  }

  Result<void> read_file(const xmlNode* node, Metalink& out) {
    auto name = attribute(node, "name");
    if (!name) return refuse("a <file> without a name");
    if (const std::string why = metalink_name_fault(*name); !why.empty()) {
      return refuse("file name \"" + *name + "\" refused: " + why);
    }
    MetalinkFile file;
    file.name = *name;
    const std::string what = "file \"" + file.name + "\": ";
    std::vector<const xmlNode*> pieces;
    for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
      if (is_element(child, "size")) {
        if (file.size) return refuse(what + "more than one <size>");
        file.size = parse_number(content(child));
        if (!file.size) return refuse(what + "<size> is not a number: \"" + content(child) + "\"");
      } else if (is_element(child, "hash")) {
        if (auto r = read_hash(child, file, what); !r) return r;
      } else if (is_element(child, "pieces")) {
        pieces.push_back(child);
      } else if (is_element(child, "url")) {
        if (auto r = read_url(child, file, what, out.notes); !r) return r;
      } else if (is_element(child, "metaurl")) {
        out.notes.push_back(what + "<metaurl> (" + attribute(child, "mediatype").value_or("?") +
                            ") ignored: only http and https URLs are fetched");
      }
    }
    // Pieces are checked once the size is known, wherever <size> stood.
    for (const xmlNode* element : pieces) {
      if (auto r = read_pieces(element, file, what, out.notes); !r) return r;
    }
    for (const std::string& type : file.unknown_hash_types) {
      out.notes.push_back(what + "hash type " + type +
                          " ignored (only sha-256 and sha-512 are checked)");
    }
    if (file.urls.empty()) return refuse(what + "no http or https URL to fetch it from");
    std::stable_sort(
        file.urls.begin(), file.urls.end(),
        [](const MetalinkUrl& a, const MetalinkUrl& b) { return a.priority < b.priority; });
    out.files.push_back(std::move(file));
    return {};
  }

 private:
  Result<void> read_hash(const xmlNode* node, MetalinkFile& file, const std::string& what) {
    auto type = attribute(node, "type");
    if (!type || type->empty()) return refuse(what + "a <hash> without a type");
    const auto algorithm = secure::digest_from_name(*type);
    if (!algorithm) {
      file.unknown_hash_types.push_back(*type);
      return {};
    }
    auto value = digest_value(content(node), *algorithm);
    if (!value) return refuse(what + "<hash type=\"" + *type + "\">: " + value.error());
    file.hashes.push_back(
        Checksum{.algorithm = *algorithm, .value = std::move(*value), .origin = "metalink"});
    return {};
  }

  Result<void> read_pieces(const xmlNode* node, MetalinkFile& file, const std::string& what,
                           std::vector<std::string>& notes) {
    auto type = attribute(node, "type");
    auto length_text = attribute(node, "length");
    if (!type || type->empty()) return refuse(what + "<pieces> without a type");
    if (!length_text) return refuse(what + "<pieces> without a length");
    const auto length = parse_number(*length_text);
    if (!length || *length == 0) {
      return refuse(what + "<pieces> length \"" + *length_text + "\" is not a positive number");
    }
    if (!file.size) return refuse(what + "<pieces> need the file's <size>, and it has none");
    std::vector<const xmlNode*> hashes;
    for (const xmlNode* child = node->children; child != nullptr; child = child->next) {
      if (is_element(child, "hash")) hashes.push_back(child);
    }
    const std::uint64_t expected = *file.size / *length + (*file.size % *length != 0 ? 1 : 0);
    if (hashes.size() != expected) {
      return refuse(what + std::to_string(hashes.size()) + " piece hashes, but size " +
                    std::to_string(*file.size) + " in pieces of " + std::to_string(*length) +
                    " needs " + std::to_string(expected));
    }
    const auto algorithm = secure::digest_from_name(*type);
    if (!algorithm) {
      notes.push_back(what + "piece hashes of type " + *type +
                      " ignored (only sha-256 and sha-512 are checked)");
      return {};
    }
    if (file.pieces) return {};  // the first usable set is enough
    MetalinkPieces pieces{.length = *length, .algorithm = *algorithm, .hashes = {}};
    for (const xmlNode* hash : hashes) {
      auto value = digest_value(content(hash), *algorithm);
      if (!value) {
        return refuse(what + "piece hash " + std::to_string(pieces.hashes.size()) + ": " +
                      value.error());
      }
      pieces.hashes.push_back(std::move(*value));
    }
    file.pieces = std::move(pieces);
    return {};
  }

  Result<void> read_url(const xmlNode* node, MetalinkFile& file, const std::string& what,
                        std::vector<std::string>& notes) {
    const std::string text = content(node);
    MetalinkUrl entry;
    if (auto priority = attribute(node, "priority")) {
      const auto value = parse_number(*priority);
      if (!value || *value < 1 || *value > kLowestPriority) {
        return refuse(what + "URL priority \"" + *priority + "\" is not between 1 and 999999");
      }
      entry.priority = static_cast<unsigned>(*value);
    }
    entry.location = attribute(node, "location").value_or("");
    const std::size_t colon = text.find(':');
    const std::size_t stop = text.find_first_of("/?#");
    if (colon != std::string::npos && (stop == std::string::npos || colon < stop)) {
      const std::string scheme = text.substr(0, colon);
      if (!ascii::equals_ignoring_case(scheme, "http") &&
          !ascii::equals_ignoring_case(scheme, "https")) {
        notes.push_back(what + scheme + " URL ignored: only http and https are fetched");
        return {};
      }
      auto url = parse_url(text);
      if (!url) return refuse(what + "URL \"" + text + "\": " + url.error().message());
      entry.url = std::move(*url);
    } else {
      if (base_ == nullptr) {
        return refuse(what + "relative URL \"" + text +
                      "\" in a Metalink read from a local file: there is no URL to resolve it "
                      "against");
      }
      auto url = resolve_location(*base_, text);
      if (!url) return refuse(what + "URL \"" + text + "\": " + url.error().message());
      entry.url = std::move(*url);
    }
    file.urls.push_back(std::move(entry));
    return {};
  }

  static std::expected<std::vector<std::uint8_t>, std::string> digest_value(
      std::string_view text, secure::DigestAlgorithm algorithm) {
    auto value = secure::from_hex(text);
    if (!value) return std::unexpected("\"" + std::string(text) + "\" is not hexadecimal");
    if (value->size() != secure::digest_size(algorithm)) {
      return std::unexpected(std::to_string(value->size() * 2) + " hex digits, " +
                             std::string(secure::digest_name(algorithm)) + " has " +
                             std::to_string(secure::digest_size(algorithm) * 2));
    }
    return std::move(*value);
  }

  std::string origin_;
  const Url* base_;
};

}  // namespace

std::optional<Checksum> MetalinkFile::checksum() const {
  for (const auto algorithm : {secure::DigestAlgorithm::sha512, secure::DigestAlgorithm::sha256}) {
    for (const Checksum& hash : hashes) {
      if (hash.algorithm == algorithm) return hash;
    }
  }
  return std::nullopt;
}

bool is_metalink_media_type(std::string_view content_type) {
  const std::string_view type = trimmed(content_type.substr(0, content_type.find(';')));
  return ascii::equals_ignoring_case(type, kMetalinkMediaType);
}

std::string metalink_name_fault(std::string_view name) {
  if (name.empty()) return "it is empty";
  if (name.front() == '/') return "it is an absolute path";
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return "it contains a control character";
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = name.find('/', start);
    const std::string_view segment = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty()) return "it has an empty path segment";
    if (segment == "..") return "it has a \"..\" segment";
    if (segment == ".") return "it has a \".\" segment";
    if (slash == std::string_view::npos) return {};
    start = slash + 1;
  }
}

Result<Metalink> parse_metalink(std::string_view document, std::string_view origin,
                                const Url* base) {
  Reader reader(origin, base);
  if (document.size() > kMaxMetalinkBytes) {
    return reader.refuse("larger than " + std::to_string(kMaxMetalinkBytes >> 20) + " MiB");
  }
  // A Metalink has no DTD; refusing one before libxml2 sees it rules out external entities and
  // entity expansion altogether, whatever the parser's defaults.
  if (document.find("<!DOCTYPE") != std::string_view::npos ||
      document.find("<!ENTITY") != std::string_view::npos) {
    return reader.refuse("a DOCTYPE or ENTITY declaration is not allowed in a Metalink");
  }
  static std::once_flag initialised;
  std::call_once(initialised, [] { xmlInitParser(); });
  std::unique_ptr<xmlParserCtxt, ContextFree> context(xmlNewParserCtxt());
  if (!context) return fail(Errc::exhausted, "metalink " + std::string(origin), "xmlNewParserCtxt");
  // No XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_HUGE: entities stay unexpanded, nothing
  // is loaded, libxml2's own size limits hold; NONET forbids any fetch.
  constexpr int kOptions = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  std::unique_ptr<xmlDoc, DocFree> doc(xmlCtxtReadMemory(context.get(), document.data(),
                                                         static_cast<int>(document.size()),
                                                         "metalink", nullptr, kOptions));
  if (!doc) {
    const xmlError* error = xmlCtxtGetLastError(context.get());
    std::string why = error && error->message ? std::string(trimmed(error->message)) : "unknown";
    const int line = error ? error->line : 0;
    return reader.refuse("malformed XML at line " + std::to_string(line) + ": " + why);
  }
  if (doc->intSubset != nullptr || doc->extSubset != nullptr) {
    return reader.refuse("a DOCTYPE is not allowed in a Metalink");
  }
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || !is_element(root, "metalink")) {
    return reader.refuse("not a Metalink 4 document (root element <metalink> in namespace " +
                         std::string(kNamespace) + ")");
  }
  Metalink out;
  std::set<std::string> names;
  for (const xmlNode* child = root->children; child != nullptr; child = child->next) {
    if (!is_element(child, "file")) continue;
    if (auto r = reader.read_file(child, out); !r) return std::unexpected(r.error());
    if (!names.insert(out.files.back().name).second) {
      return reader.refuse("file \"" + out.files.back().name + "\" is listed twice");
    }
  }
  if (out.files.empty()) return reader.refuse("it lists no file");
  return out;
}

Result<Metalink> load_metalink(const std::string& path) {
  auto file = Fd::open(path, O_RDONLY | O_CLOEXEC);
  if (!file) return std::unexpected(file.error());
  struct stat st {};
  if (::fstat(file->get(), &st) != 0) return fail_errno(errno, "fstat(" + path + ")");
  if (!S_ISREG(st.st_mode)) return fail(Errc::invalid_argument, "metalink " + path, "not a file");
  if (static_cast<std::uint64_t>(st.st_size) > kMaxMetalinkBytes) {
    return fail(Errc::corrupt, "metalink " + path,
                "larger than " + std::to_string(kMaxMetalinkBytes >> 20) + " MiB");
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = sys_call({"read", file->get()},
                      [&] { return ::read(file->get(), text.data() + done, text.size() - done); });
    if (!n) return std::unexpected(std::move(n.error()).with_context(path));
    if (*n == 0) break;  // it shrank meanwhile: parse what is there
    done += static_cast<std::size_t>(*n);
  }
  text.resize(done);
  return parse_metalink(text, path);
}

}  // namespace zc::http
