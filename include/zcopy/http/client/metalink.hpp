// zcopy/http/client/metalink.hpp: Metalink 4 documents (RFC 5854), parsed strictly.
//
//   zc::Result<zc::http::Metalink> m = zc::http::parse_metalink(text, "ubuntu.meta4");
//   for (const zc::http::MetalinkFile& f : m->files) use(f.name, f.urls.front().url, f.checksum);
//
// A Metalink lists files, each with a name, a size, digests of the whole file and of its pieces,
// and the URLs it can be fetched from, each with a priority (1 first). The document comes from
// outside, so it is parsed by libxml2 without network access, without a DTD (a DOCTYPE is
// refused before parsing: no external entity, no entity expansion) and up to kMaxMetalinkBytes.
// A name is refused unless it is a relative path of plain segments (no "..", ".", empty segment,
// or control character), so nothing a Metalink names lands outside the output directory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/http/client/checksum.hpp"
#include "zcopy/http/client/url.hpp"
#include "zcopy/secure/digest.hpp"

namespace zc::http {

// A Metalink is metadata; a document larger than this is refused unread.
inline constexpr std::size_t kMaxMetalinkBytes = 4u << 20;
// The media type of a Metalink 4 document (RFC 5854 section 7).
inline constexpr std::string_view kMetalinkMediaType = "application/metalink4+xml";

struct MetalinkUrl {
  Url url;                     // absolute, relative ones resolved against the document's URL
  unsigned priority = 999999;  // 1 is tried first; an URL without one comes last
  std::string location;        // ISO 3166-1 country code, when given
};

// <pieces length="L" type="T"><hash>..</hash>...</pieces>: piece i covers bytes
// [i * L, min((i + 1) * L, size)).
struct MetalinkPieces {
  std::uint64_t length = 0;
  secure::DigestAlgorithm algorithm = secure::DigestAlgorithm::sha256;
  std::vector<std::vector<std::uint8_t>> hashes;
};

struct MetalinkFile {
  std::string name;  // a relative path, checked as the header says
  std::optional<std::uint64_t> size;
  std::vector<Checksum> hashes;  // the whole file's, of the types we know (sha-256, sha-512)
  std::vector<std::string> unknown_hash_types;  // recorded and ignored ("md5", "sha-1", ...)
  std::optional<MetalinkPieces> pieces;         // the first <pieces> of a type we know
  std::vector<MetalinkUrl> urls;                // sorted by priority, document order on ties

  // The strongest whole-file digest (sha-512 before sha-256), if any.
  std::optional<Checksum> checksum() const;
};

struct Metalink {
  std::vector<MetalinkFile> files;
  std::vector<std::string> notes;  // what was ignored and why, one line each
};

// Parses `document`, which came from `origin` (a path or URL, for messages). `base` is the
// document's own URL when it was fetched over HTTP: relative URLs resolve against it; without it
// (a local file) a relative URL is refused. Errc::corrupt naming `origin` and the fault for
// malformed XML, a document that is not Metalink 4, a bad name, a missing or malformed size or
// digest, piece hashes that do not cover the size, a file without any usable URL.
Result<Metalink> parse_metalink(std::string_view document, std::string_view origin,
                                const Url* base = nullptr);

// parse_metalink of the file at `path` (a local file: relative URLs are refused); a file larger
// than kMaxMetalinkBytes is refused unread.
Result<Metalink> load_metalink(const std::string& path);

// Whether a Content-Type value names a Metalink 4 document (parameters and case aside).
bool is_metalink_media_type(std::string_view content_type);

// Whether `name` may name a file beneath the output directory; empty if so, else why not.
std::string metalink_name_fault(std::string_view name);

}  // namespace zc::http
