#include "bench/support/data.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::bench {
namespace {

// One xorshift64 generator; its state goes on from call to call.
struct Xorshift {
  std::uint64_t x;
  explicit Xorshift(std::uint64_t seed) : x(seed * 0x9E3779B97F4A7C15ULL + 1) {}
  std::uint64_t next() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  }
  void fill(std::span<std::byte> bytes) {
    for (std::size_t i = 0; i < bytes.size(); i += 8) {
      const std::uint64_t word = next();
      for (std::size_t b = 0; b < 8 && i + b < bytes.size(); ++b)
        bytes[i + b] = static_cast<std::byte>(word >> (8 * b));
    }
  }
};

}  // namespace

TempDir::TempDir(std::string_view prefix, const std::string& parent) {
  std::string pattern = parent + "/" + std::string(prefix) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) != nullptr) path_ = std::move(pattern);
}

Result<TempDir> TempDir::create(std::string_view prefix, const std::string& parent) {
  TempDir dir(prefix, parent);
  if (dir.path().empty())
    return fail_errno(errno, "mkdtemp(" + parent + "/" + std::string(prefix) + "-XXXXXX)");
  return dir;
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

TempDir::~TempDir() {
  remove();
}

void TempDir::remove() noexcept {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
  path_.clear();
}

void fill_random(std::span<std::byte> bytes, std::uint64_t seed) {
  Xorshift(seed).fill(bytes);
}

std::string random_bytes(std::size_t size, std::uint64_t seed) {
  std::string out(size, '\0');
  fill_random(std::as_writable_bytes(std::span(out)), seed);
  return out;
}

Result<void> write_random_file(const std::string& path, std::uint64_t size,
                               const FileOptions& options) {
  auto fd = Fd::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!fd) return std::unexpected(fd.error());
  std::vector<std::byte> block(1 << 20);
  Xorshift random(options.seed);
  for (std::uint64_t done = 0; done < size;) {
    random.fill(block);
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(block.size(), size - done));
    for (std::size_t at = 0; at < n;) {
      auto w = sys_call({"write", fd->get()},
                        [&] { return ::write(fd->get(), block.data() + at, n - at); });
      if (!w) return std::unexpected(std::move(w.error()).with_context(path));
      at += static_cast<std::size_t>(*w);
    }
    done += n;
  }
  if (options.sync) {
    if (auto synced = sys_call({"fsync", fd->get()}, [&] { return ::fsync(fd->get()); }); !synced)
      return std::unexpected(synced.error());
  }
  if (options.warm) {
    auto in = Fd::open(path, O_RDONLY);
    if (!in) return std::unexpected(in.error());
    while (::read(in->get(), block.data(), block.size()) > 0) {
    }
  }
  return {};
}

std::string read_text(const std::string& path) {
  std::string out;
  auto fd = Fd::open(path, O_RDONLY);
  if (!fd) return out;
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd->get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(chunk, static_cast<std::size_t>(n));
  }
  return out;
}

}  // namespace zc::bench
