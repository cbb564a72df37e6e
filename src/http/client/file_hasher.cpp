#include "file_hasher.hpp"

#include <unistd.h>

#include "download_steps.hpp"

namespace zc::http::detail {
namespace {

// Hashing in steps this large keeps the mappings few; smaller ones would cost more in mmap calls
// than they gain in overlap.
constexpr std::uint64_t kHashStep = 16ull << 20;

}  // namespace

Result<FileHasher> FileHasher::create(secure::DigestAlgorithm algorithm, int file,
                                      std::uint64_t landed) {
  auto digest = secure::Digest::create(algorithm);
  if (!digest) return std::unexpected(digest.error());
  return FileHasher(std::move(*digest), file, landed);
}

Result<void> FileHasher::catch_up() {
  if (landed_ - hashed_ < kHashStep) return {};
  const std::uint64_t length = landed_ - hashed_;
  if (auto r = secure::hash_file(digest_, file_, hashed_, length); !r) return r;
  hashed_ += length;
  return {};
}

Result<std::vector<std::uint8_t>> FileHasher::finish(std::uint64_t size) {
  if (size > hashed_) {
    if (auto r = secure::hash_file(digest_, file_, hashed_, size - hashed_); !r) {
      return std::unexpected(r.error());
    }
    hashed_ = size;
  }
  return digest_.finish();
}

Result<std::string> verify_part(int file, const OutputPlace& place, const Checksum& expected,
                                std::uint64_t size, FileHasher* partial, TransferLedger& ledger) {
  std::optional<FileHasher> own;
  if (partial == nullptr || partial->hashed() > size) {
    auto created = FileHasher::create(expected.algorithm, file, 0);
    if (!created) return std::unexpected(created.error());
    own.emplace(std::move(*created));
    partial = &*own;
  }
  auto found = partial->finish(size);
  ledger.bytes_hashed += partial->hashed();
  if (!found) return std::unexpected(std::move(found.error()).with_context(place.shown_part));
  const std::string name(secure::digest_name(expected.algorithm));
  if (*found != expected.value) {
    const int dir = place.directory.get();
    (void)::unlinkat(dir, place.part.c_str(), 0);
    remove_part_record(dir, place.record);
    return fail(Errc::corrupt, "verify " + place.shown_part,
                name + " mismatch: expected " + secure::to_hex(expected.value) + " (" +
                    expected.origin + "), found " + secure::to_hex(*found) +
                    "; the partial download is removed");
  }
  return name + " verified (" + expected.origin + ")";
}

}  // namespace zc::http::detail
