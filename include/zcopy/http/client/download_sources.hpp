// zcopy/http/client/download_sources.hpp: one file fetched from several sources (mirrors) at once.
//
//   zc::http::SourcesOptions options;
//   options.download.output = "image.iso";
//   std::vector<zc::http::Url> urls = {*parse_url(a), *parse_url(b), *parse_url(c)};
//   auto r = zc::http::download_from_sources(urls, options);
//   for (const auto& s : r->sources) std::printf("%s %llu\n", s.url.c_str(), s.bytes);
//
// Every source is probed first (HEAD, after redirects). All must report the same size and agree
// with the first usable source (or with the record of a resumed download) on their validators:
// Last-Modified must be equal where both send one; strong ETags must be equal where both send
// one and one of them has no Last-Modified (servers of one file rarely agree on ETags, which each
// server program forms its own way, but a mirror keeps the file's date). A source that disagrees,
// offers no byte ranges, or fails the probe is dropped with its reason before any of its bytes is
// written. A `Link: <URL>; rel=duplicate` field of the first source (RFC 6249) adds mirrors unless
// `follow_links` is off.
//
// The file is cut into pieces; each source's connections take pieces from one queue as they
// finish, so a faster source takes more of them. When the queue is empty an idle connection takes
// over the rest of the slowest in-flight piece (once that piece has run kMinStealAge and the idle
// source is at least twice as fast): the owner is stopped, and the taker continues from the last
// byte written. A source whose transfer fails, stalls (the stall rule of download.hpp), or answers
// a range with anything but that range is dropped, and its piece goes back to the queue.
//
// With piece hashes (a Metalink's), the pieces are whole multiples of the hashed length, each
// hashed from the page cache as soon as its last byte lands; a piece that does not match is
// fetched again from another source while one is left, and each source that wrote some of it is
// counted bad (and dropped at `bad_piece_limit`). Pieces a resumed .part already holds are
// hashed before anything is fetched. `size`, when given, drops a source of another size.
//
// The pieces are the ranges of OUTPUT.part.zcopy (part_record.hpp), so an interrupted download
// resumes from the record with any sources that agree with it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "zcopy/http/client/download.hpp"
#include "zcopy/http/client/metalink.hpp"

namespace zc::http {

// A piece started less than this ago is not taken over: its owner's rate is not known yet.
inline constexpr std::chrono::milliseconds kMinStealAge{1000};

struct SourcesOptions {
  DownloadOptions download;      // output, method, resume, timeout, TLS, checksum, stop, progress
  unsigned max_per_source = 1;   // connections to each source
  std::uint64_t piece_size = 0;  // 0: 4 MiB, larger when the file needs more than 1000 pieces
  bool follow_links = true;      // use the first source's Link rel=duplicate mirrors
  // When not empty, element i counts the bytes written from the i-th given source (relaxed:
  // display only); mirrors learnt from Link fields are not counted here.
  std::span<std::atomic<std::uint64_t>> source_bytes{};
  const MetalinkPieces* pieces = nullptr;  // borrowed; piece hashes to verify as pieces land
  unsigned bad_piece_limit = 3;            // bad pieces after which a source gets no more
  std::optional<std::uint64_t> size;       // the size the file must have, when known
};

struct SourceReport {
  std::string url;
  std::uint64_t bytes = 0;  // written to the file from this source (and kept)
  unsigned bad_pieces = 0;  // pieces whose bytes from it did not match their hash
  bool dropped = false;
  std::string reason;  // why it was dropped, or a note ("from a Link field")
};

struct SourcesResult {
  DownloadResult download;
  std::vector<SourceReport> sources;  // the given ones in order, then those from Link fields
};

Result<SourcesResult> download_from_sources(std::span<const Url> urls,
                                            const SourcesOptions& options);

// The URLs of the `Link` field values that have rel=duplicate (RFC 6249), resolved against
// `base`; values that are not well formed are skipped.
std::vector<Url> duplicate_links(const Url& base, std::span<const std::string> link_values);

}  // namespace zc::http
