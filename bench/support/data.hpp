// bench/support/data.hpp: scratch space and the data benchmarks move: a directory that is removed
// with everything in it, and pseudo-random (incompressible) bytes and files of any size that are
// the same for the same seed.
//
//   auto dir = zc::bench::TempDir::create("zcopy-serve-bench");
//   if (!dir) return std::unexpected(dir.error());
//   auto made = zc::bench::write_random_file(*dir / "big.bin", 2 * zc::kGiB, {.warm = true});
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"

namespace zc::bench {

// A fresh directory (mkdtemp, mode 0700) removed with all it holds on destruction.
class TempDir {
 public:
  // PARENT/PREFIX-XXXXXX, or an empty path() when it cannot be made.
  explicit TempDir(std::string_view prefix = "zcopy", const std::string& parent = "/tmp");
  // The same, with the reason when it cannot be made.
  static Result<TempDir> create(std::string_view prefix, const std::string& parent = "/tmp");
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const noexcept { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  void remove() noexcept;
  std::string path_;
};

// Fills `bytes` with xorshift64 output started from `seed`: 8 bytes per step, little-endian.
void fill_random(std::span<std::byte> bytes, std::uint64_t seed);
// `size` such bytes as a string.
std::string random_bytes(std::size_t size, std::uint64_t seed);

struct FileOptions {
  std::uint64_t seed = 1;
  bool sync = false;  // fsync before returning: no later measurement pays for its writeback
  bool warm = false;  // read it back once, so that it is in the page cache
};
// Writes `size` pseudo-random bytes (no two MiB alike) to `path`, replacing what was there.
Result<void> write_random_file(const std::string& path, std::uint64_t size,
                               const FileOptions& options = {});

// The whole file; empty when it cannot be read.
std::string read_text(const std::string& path);

}  // namespace zc::bench
