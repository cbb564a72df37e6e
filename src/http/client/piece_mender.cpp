#include "piece_mender.hpp"

#include <unistd.h>

#include "memory_body.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/http/client/client.hpp"

namespace zc::http::detail {
namespace {

struct Source {
  const Url* url = nullptr;
  unsigned bad = 0;       // pieces it sent that did not match
  std::string validator;  // its ETag (else Last-Modified), learnt from its first answer
  std::string failure;    // why its last range request failed, if it did
};

Result<bool> piece_matches(int fd, std::uint64_t offset, std::uint64_t length,
                           const MetalinkPieces& pieces, std::size_t index,
                           TransferLedger& ledger) {
  auto digest = secure::Digest::create(pieces.algorithm);
  if (!digest) return std::unexpected(digest.error());
  if (auto r = secure::hash_file(*digest, fd, offset, length); !r) {
    return std::unexpected(r.error());
  }
  ledger.bytes_hashed += length;
  auto value = digest->finish();
  if (!value) return std::unexpected(value.error());
  return *value == pieces.hashes[index];
}

std::string range_text(std::uint64_t offset, std::uint64_t length) {
  return std::to_string(offset) + "-" + std::to_string(offset + length - 1);
}

// Bytes [offset, offset + length) from `source`, with If-Range on its validator once known, so a
// source whose file changed between two pieces answers 200 and is not mixed in.
Result<std::string> fetch_piece(Source& source, std::uint64_t offset, std::uint64_t length,
                                std::uint64_t size, const DownloadOptions& options) {
  const std::string what = "GET " + source.url->str() + " bytes " + range_text(offset, length);
  RequestOptions request;
  request.range_from = offset;
  request.range_to = offset + length - 1;
  request.if_range = source.validator;
  request.timeout = options.timeout;
  request.stop = options.stop;
  request.tls = options.tls;
  auto response = send_request(*source.url, request);
  if (!response) return std::unexpected(response.error());
  const ResponseHead& head = response->head;
  if (head.status == 200) {
    return fail(Errc::rejected, what,
                "answered with the whole file: it ignores Range, or its file changed");
  }
  if (head.status != 206) {
    return fail(Errc::rejected, what, "HTTP " + std::to_string(head.status) + " " + head.reason);
  }
  const ContentRange& range = *head.content_range;
  if (range.first != offset || range.last != offset + length - 1 || range.total != size) {
    return fail(Errc::corrupt, what,
                "answered bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) +
                    "/" + (range.total ? std::to_string(*range.total) : std::string("*")));
  }
  if (source.validator.empty()) {
    const std::string* etag = head.header("ETag");
    const std::string* modified = head.header("Last-Modified");
    if (etag != nullptr && !etag->starts_with("W/")) {
      source.validator = *etag;
    } else if (modified != nullptr) {
      source.validator = *modified;
    }
  }
  auto body = read_body_in_memory(*response, static_cast<std::size_t>(length), options.timeout,
                                  options.stop, what);
  if (!body) return std::unexpected(body.error());
  if (body->size() != length) return fail(Errc::closed, what, "truncated body");
  return body;
}

Result<void> write_piece(int fd, const std::string& bytes, std::uint64_t offset,
                         const std::string& shown) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    auto n = sys_call({"pwrite", fd}, [&] {
      return ::pwrite(fd, bytes.data() + done, bytes.size() - done,
                      static_cast<off_t>(offset + done));
    });
    if (!n) return std::unexpected(std::move(n.error()).with_context(shown));
    done += static_cast<std::size_t>(*n);
  }
  return {};
}

std::string tally(const std::vector<Source>& sources) {
  std::string text;
  for (const Source& source : sources) {
    if (!text.empty()) text += "; ";
    text += source.url->str() + ": " + std::to_string(source.bad) + " bad";
    if (!source.failure.empty()) text += ", last failure: " + source.failure;
  }
  return text;
}

}  // namespace

Result<std::optional<std::size_t>> first_bad_piece(int fd, const MetalinkPieces& pieces,
                                                   std::uint64_t size, std::uint64_t first,
                                                   std::uint64_t last, TransferLedger& ledger) {
  if (pieces.length == 0) return std::nullopt;
  for (std::size_t k = (first + pieces.length - 1) / pieces.length; k < pieces.hashes.size(); ++k) {
    const std::uint64_t offset = k * pieces.length;
    const std::uint64_t length = std::min(pieces.length, size - offset);
    if (offset + length - 1 > last) break;
    auto good = piece_matches(fd, offset, length, pieces, k, ledger);
    if (!good) return std::unexpected(good.error());
    if (!*good) return k;
  }
  return std::nullopt;
}

Result<std::string> mend_pieces(int fd, const std::string& shown, const MetalinkPieces& pieces,
                                std::uint64_t size, const std::vector<Url>& urls,
                                std::size_t writer, const MetalinkOptions& options,
                                TransferLedger& ledger) {
  const std::string algorithm(secure::digest_name(pieces.algorithm));
  std::vector<Source> sources(urls.size());
  for (std::size_t i = 0; i < urls.size(); ++i) sources[i].url = &urls[i];
  std::uint64_t mended = 0;
  for (std::size_t k = 0; k < pieces.hashes.size(); ++k) {
    const std::uint64_t offset = k * pieces.length;
    const std::uint64_t length = std::min(pieces.length, size - offset);
    auto good = piece_matches(fd, offset, length, pieces, k, ledger);
    if (!good) return std::unexpected(good.error());
    if (*good) continue;
    ++sources[writer].bad;
    // The others in turn, starting after the one that sent the bad bytes.
    for (std::size_t step = 1; step < sources.size() && !*good; ++step) {
      Source& source = sources[(writer + step) % sources.size()];
      if (source.bad >= options.bad_piece_limit) continue;
      auto bytes = fetch_piece(source, offset, length, size, options.download);
      if (!bytes) {
        if (options.download.stop && options.download.stop->load(std::memory_order_relaxed)) {
          return std::unexpected(bytes.error());
        }
        source.failure = bytes.error().message();
        continue;
      }
      if (auto r = write_piece(fd, *bytes, offset, shown); !r) return std::unexpected(r.error());
      ledger.bytes_copied_kernel += 2 * length;  // recv into memory, pwrite into the page cache
      good = piece_matches(fd, offset, length, pieces, k, ledger);
      if (!good) return std::unexpected(good.error());
      if (!*good) ++source.bad;
    }
    if (!*good) {
      return fail(Errc::corrupt, "verify " + shown,
                  "piece " + std::to_string(k) + " (bytes " + range_text(offset, length) +
                      ") matches its " + algorithm + " from no source (" + tally(sources) + ")");
    }
    ++mended;
  }
  if (mended == 0) return std::string();
  if (options.download.sync) {
    if (auto r = sys_call({"fdatasync", fd}, [&] { return ::fdatasync(fd); }); !r) {
      return std::unexpected(std::move(r.error()).with_context(shown));
    }
  }
  return std::to_string(mended) + " bad " + algorithm + " piece(s) fetched again (" +
         tally(sources) + ")";
}

}  // namespace zc::http::detail
