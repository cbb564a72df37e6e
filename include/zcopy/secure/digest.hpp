// zcopy/secure/digest.hpp: SHA-2 digests of bytes and of files, by OpenSSL's EVP.
//
//   zc::Result<zc::secure::Digest> d =
//   zc::secure::Digest::create(zc::secure::DigestAlgorithm::sha256); d->update(bytes);
//   zc::secure::hash_file(*d, fd, 0, size);   // from the page cache, through a read-only mapping
//   zc::Result<std::vector<std::uint8_t>> value = d->finish();
//
// A file is hashed where its pages lie (mmap, a window at a time), so the hashing pass reads each
// byte once and copies none: the bytes a download spliced into the page cache are hashed there.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc::secure {

enum class DigestAlgorithm : std::uint8_t { sha256, sha512 };

// "sha-256" or "sha-512", as RFC 9530 and Metalink name them.
std::string_view digest_name(DigestAlgorithm algorithm) noexcept;
// The algorithm a name means: "sha-256", "sha256", "SHA-256" alike; std::nullopt when unknown.
std::optional<DigestAlgorithm> digest_from_name(std::string_view name) noexcept;
std::size_t digest_size(DigestAlgorithm algorithm) noexcept;

// One running digest. Move-only: it owns its EVP_MD_CTX.
class Digest {
 public:
  static Result<Digest> create(DigestAlgorithm algorithm);
  Digest(Digest&&) noexcept;
  Digest& operator=(Digest&&) noexcept;
  ~Digest();

  DigestAlgorithm algorithm() const noexcept { return algorithm_; }
  Result<void> update(std::span<const std::uint8_t> bytes);
  // The digest of everything given; the object is spent afterwards.
  Result<std::vector<std::uint8_t>> finish();

 private:
  struct Context;
  Digest(DigestAlgorithm algorithm, std::unique_ptr<Context> context) noexcept;
  DigestAlgorithm algorithm_;
  std::unique_ptr<Context> context_;
};

// Adds bytes [offset, offset + length) of `fd` (opened for reading) to `digest`, read through a
// read-only mapping. The file must hold those bytes for the whole call: a mapping of a file that
// someone truncates meanwhile faults (SIGBUS), so this is for files the caller alone writes.
Result<void> hash_file(Digest& digest, int fd, std::uint64_t offset, std::uint64_t length);
// The same through pread into a buffer (one copy more), for files anyone may change meanwhile:
// a file that ends early fails with Errc::corrupt. Setting `stop` (checked between 1 MiB reads)
// ends the pass early with Errc::closed.
Result<void> hash_file_by_read(Digest& digest, int fd, std::uint64_t offset, std::uint64_t length,
                               const std::atomic<bool>* stop = nullptr);

// Lower-case hexadecimal, and back (either case); std::nullopt for anything but hex digit pairs.
std::string to_hex(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text);
// Base64 with padding (RFC 4648 section 4), and back; decoding is strict: the standard alphabet,
// whole quanta, padding only at the end and zero bits under it.
std::string to_base64(std::span<const std::uint8_t> bytes);
std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text);

}  // namespace zc::secure
