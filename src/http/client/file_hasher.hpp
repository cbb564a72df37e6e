// src/http/client/file_hasher.hpp: the digest of OUTPUT.part, taken from the page cache as the
// body lands.
//
// A single stream writes the file front to back, so the hasher follows it: landed() is told of
// every write, and catch_up() (after a read) hashes the new prefix once a step of it is there,
// while the next bytes are still on the wire. A ranged download lands out of order; its file is
// hashed by finish() alone. Either way each byte is read once, through a mapping, never copied.
//
// Thread safety: one thread at a time (the single stream's, then the finishing one).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/http/client/checksum.hpp"
#include "zcopy/secure/digest.hpp"

namespace zc::http::detail {

class FileHasher {
 public:
  // Hashes `file` (open for reading) from byte 0; `landed` bytes are already in it.
  static Result<FileHasher> create(secure::DigestAlgorithm algorithm, int file,
                                   std::uint64_t landed);

  // `bytes` more were written after the earlier ones.
  void landed(std::uint64_t bytes) noexcept { landed_ += bytes; }
  // Hashes what landed once at least a step of it waits.
  Result<void> catch_up();
  // Hashes up to `size` and returns the digest; the hasher is spent afterwards.
  Result<std::vector<std::uint8_t>> finish(std::uint64_t size);
  // Bytes hashed so far: the hashing pass, for the ledger.
  std::uint64_t hashed() const noexcept { return hashed_; }

 private:
  FileHasher(secure::Digest digest, int file, std::uint64_t landed) noexcept
      : digest_(std::move(digest)), file_(file), landed_(landed) {}
  secure::Digest digest_;
  int file_;
  std::uint64_t landed_;
  std::uint64_t hashed_ = 0;
};

// Checks the digest of `file`'s first `size` bytes against `expected`, continuing `partial` when
// given (it hashed the file as it landed). On a match returns the note "sha-256 verified
// (ORIGIN)"; on a mismatch removes NAME.part and its record and fails naming both digests. The
// hashing pass is added to `ledger`.
struct OutputPlace;
Result<std::string> verify_part(int file, const OutputPlace& place, const Checksum& expected,
                                std::uint64_t size, FileHasher* partial, TransferLedger& ledger);

}  // namespace zc::http::detail
