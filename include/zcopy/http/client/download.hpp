// zcopy/http/client/download.hpp: fetch one URL into a file, safely.
//
//   zc::http::DownloadOptions options;
//   options.output = "genome.fa";
//   zc::Result<zc::http::DownloadResult> r = zc::http::download(*zc::http::parse_url(url),
//   options); std::puts(r->ledger.summary().c_str());
//
// The body is written to OUTPUT.part; only when every byte the server announced has arrived is the
// file fsynced and renamed to OUTPUT, so OUTPUT never exists half-written. On any failure (HTTP
// error, refused connection, truncated body, full disk, stall, stop request) the error says what
// happened, the .part stays for `resume`, and OUTPUT is not created. Redirects are followed up to
// a bound.
//
// Beside OUTPUT.part lies OUTPUT.part.zcopy (part_record.hpp): the first response's validator
// (ETag, else Last-Modified) and the size, and per range the bytes that are in the .part and
// synced. `resume` continues only a .part that has such a record: each range from its own offset,
// with If-Range, so a file that changed on the server is fetched again from byte 0 instead of
// being spliced onto the old bytes. Every Content-Range is checked in full (start, end, total).
// A server that sends no validator can still be resumed when the size matches, and the note says
// the origin could not be verified. `force_resume` trusts a .part without a record.
//
// A transfer fails when fewer than 1 KiB arrive in a window of `timeout` (a trickle does not keep
// it alive), and the whole response head must arrive within `timeout`.
//
// With a checksum (given, or a server's Repr-Digest / Digest field), the file is hashed where it
// lies in the page cache (as it lands, for a single stream) and renamed only when the digest
// matches; the ledger counts that pass in bytes_hashed.
//
// Over https the ledger's method says which code opened the records: "tls-in-place" (TLS 1.3,
// each record decrypted where it landed, revealed after its tag verified) or "tls-ssl_read"
// (OpenSSL's SSL_read, one more copy), and the note describes the session.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/http/client/checksum.hpp"
#include "zcopy/http/client/connection_pool.hpp"
#include "zcopy/http/client/url.hpp"
#include "zcopy/net/socket_to_file.hpp"
#include "zcopy/secure/session.hpp"

namespace zc::http {

// Counters a progress display reads while downloads run (relaxed: display only).
struct DownloadProgress {
  std::atomic<std::uint64_t> bytes_done{0};      // written to files, resumed bytes included
  std::atomic<std::uint64_t> bytes_expected{0};  // sum of the sizes learnt so far
};

// When a complete file's bytes are made durable (--sync). Every mode keeps the .part -> rename
// protocol: no file appears under its name before all its bytes are written.
//   file   fsync the .part (and its record), rename, fsync the directory: each file is durable
//          as soon as it appears, at the cost of a disk flush per file.
//   batch  no flush per file; one syncfs of the output's file system before the run reports
//          success. A killed run leaves complete files and .part files only; a power cut during
//          the run can lose the bytes of files renamed since the run began.
//   none   no flush at all: durable whenever the kernel writes the page cache back.
enum class Durability : std::uint8_t { file, batch, none };

std::string_view to_string(Durability durability) noexcept;  // "file", "batch", "none"
std::optional<Durability> durability_from_name(std::string_view text) noexcept;

// Bodies of a known length below this many bytes are received by recv() into a buffer and
// pwrite(): for a few KB the pipe of a splice costs more than the copy it saves (measured by
// `zcopy get --bench-tree`).
inline constexpr std::uint64_t kCopyBelow = 16 * 1024;

struct DownloadOptions {
  std::string output;  // the final path; OUTPUT.part while in progress
  net::ReceiveMethod method = net::ReceiveMethod::automatic;
  bool resume = false;           // continue OUTPUT.part (as its record says) with Range requests
  bool force_resume = false;     // with resume: trust a .part that has no record of its origin
  unsigned parallel_ranges = 1;  // split one body over this many connections
  int max_redirects = 5;
  std::chrono::milliseconds timeout{30000};
  bool sync =
      true;  // fsync the file (and its directory) before and after rename (Durability::file)
  std::optional<std::int64_t> mtime;  // set the file's mtime (seconds) once complete and verified
  DownloadProgress* progress = nullptr;
  // Set (by a signal handler, say) to stop: the transfer ends within a fraction of a second,
  // saves its record and fails with "interrupted", leaving OUTPUT.part to resume.
  const std::atomic<bool>* stop = nullptr;
  // When >= 0, `output` is relative to this directory and is resolved without following a
  // symlink at any step, so nothing is written outside it (mirroring).
  int beneath_fd = -1;
  // An ETag: send If-None-Match, and a 304 leaves the existing OUTPUT as it is (not_modified).
  std::string if_none_match;
  // Keep the validator of a complete, verified file in its user.zcopy.validator xattr.
  bool keep_origin = false;
  // How https:// servers are checked (CA file or directory, or not at all); the timeout is
  // `timeout`. An https body is read through TLS, whatever `method` says.
  secure::SessionOptions tls{};
  // The digest the whole file must have: checked (from the page cache) before the rename, and a
  // mismatch removes the .part and fails naming both digests.
  std::optional<Checksum> checksum{};
  // Without `checksum`: verify against the server's Repr-Digest (or Digest) field when it sends
  // one. False (--no-verify) skips that check, and the result says so.
  bool verify_server_digest = true;
  // When set, a 200 whose Content-Type is application/metalink4+xml is not saved: its body
  // (kMaxMetalinkBytes at most, metalink.hpp) is read into here and the result says `metalink`.
  // Honoured by a single-stream download (parallel_ranges 1).
  std::string* metalink_document = nullptr;
  // Keep-alive connections to reuse and keep (the calling thread's own); none: one connection
  // per request.
  ConnectionPool* pool = nullptr;
  // With `method` chosen automatically: bodies of a known length below this are copied
  // (kCopyBelow); 0 always uses `method`.
  std::uint64_t copy_below = 0;
  // False: the .part gets no record, so it is never resumed, only fetched again (a small file of
  // a mirror, where the record would cost more than the bytes it saves). Needs resume off.
  bool resumable = true;
};

struct DownloadResult {
  TransferLedger ledger;           // this transfer's bytes, copies, wall and CPU time
  std::uint64_t file_size = 0;     // the final file's size
  std::uint64_t resumed_from = 0;  // bytes already in OUTPUT.part that were kept
  std::string note;  // one line on a fallback (auto method, chunked body, resume), if any
  Url final_url;     // after redirects
  // False when bytes were resumed without a validator that proves they are the same file's.
  bool origin_verified = true;
  bool not_modified = false;  // a 304 to if_none_match: nothing was written
  std::string verified;       // "sha-256 verified (--checksum)"; empty when nothing was checked
  bool metalink = false;      // the body was a Metalink, read into options.metalink_document
};

Result<DownloadResult> download(const Url& url, const DownloadOptions& options);

// OUTPUT.part for OUTPUT (its record is record_path(), part_record.hpp).
std::string part_path(const std::string& output);

// The extended attribute keep_origin writes: "etag TAG", "last-modified DATE" or "none".
inline constexpr const char* kValidatorXattr = "user.zcopy.validator";

}  // namespace zc::http
