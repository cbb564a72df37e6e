#include "zcopy/secure/digest.hpp"

#include <openssl/evp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include "openssl_support.hpp"
#include "zcopy/core/ascii.hpp"

namespace zc::secure {
namespace {

// A mapping this size at a time keeps the address space small for files of any size.
constexpr std::uint64_t kHashWindow = 64ull << 20;

const EVP_MD* evp_of(DigestAlgorithm algorithm) noexcept {
  return algorithm == DigestAlgorithm::sha512 ? EVP_sha512() : EVP_sha256();
}

}  // namespace

struct Digest::Context {
  EVP_MD_CTX* ctx = nullptr;
  ~Context() { EVP_MD_CTX_free(ctx); }
};

std::string_view digest_name(DigestAlgorithm algorithm) noexcept {
  return algorithm == DigestAlgorithm::sha512 ? "sha-512" : "sha-256";
}

std::optional<DigestAlgorithm> digest_from_name(std::string_view name) noexcept {
  using ascii::equals_ignoring_case;
  if (equals_ignoring_case(name, "sha-256") || equals_ignoring_case(name, "sha256")) {
    return DigestAlgorithm::sha256;
  }
  if (equals_ignoring_case(name, "sha-512") || equals_ignoring_case(name, "sha512")) {
    return DigestAlgorithm::sha512;
  }
  return std::nullopt;
}

std::size_t digest_size(DigestAlgorithm algorithm) noexcept {
  return algorithm == DigestAlgorithm::sha512 ? 64 : 32;
}

Digest::Digest(DigestAlgorithm algorithm, std::unique_ptr<Context> context) noexcept
    : algorithm_(algorithm), context_(std::move(context)) {}
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;
Digest::~Digest() = default;

Result<Digest> Digest::create(DigestAlgorithm algorithm) {
  auto context = std::make_unique<Context>();
  context->ctx = EVP_MD_CTX_new();
  if (context->ctx == nullptr || EVP_DigestInit_ex(context->ctx, evp_of(algorithm), nullptr) != 1) {
    return std::unexpected(
        openssl_error(Errc::system, "EVP_DigestInit(" + std::string(digest_name(algorithm)) + ")"));
  }
  return Digest(algorithm, std::move(context));
}

Result<void> Digest::update(std::span<const std::uint8_t> bytes) {
  if (!context_ || EVP_DigestUpdate(context_->ctx, bytes.data(), bytes.size()) != 1) {
    return std::unexpected(openssl_error(Errc::system, "EVP_DigestUpdate"));
  }
  return {};
}

Result<std::vector<std::uint8_t>> Digest::finish() {
  std::vector<std::uint8_t> value(EVP_MAX_MD_SIZE);
  unsigned size = 0;
  if (!context_ || EVP_DigestFinal_ex(context_->ctx, value.data(), &size) != 1) {
    return std::unexpected(openssl_error(Errc::system, "EVP_DigestFinal"));
  }
  context_.reset();
  value.resize(size);
  return value;
}

Result<void> hash_file(Digest& digest, int fd, std::uint64_t offset, std::uint64_t length) {
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  while (length > 0) {
    // Mappings start on a page; the bytes before `offset` in the first page are skipped.
    const std::uint64_t start = offset / page * page;
    const std::uint64_t skip = offset - start;
    const std::uint64_t take = std::min(length, kHashWindow - skip);
    const auto span = static_cast<std::size_t>(skip + take);
    void* mapped = ::mmap(nullptr, span, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(start));
    if (mapped == MAP_FAILED) {
      return fail_errno(errno, "mmap(fd " + std::to_string(fd) + ", " + std::to_string(span) +
                                   " bytes at " + std::to_string(start) + ")");
    }
    (void)::madvise(mapped, span, MADV_SEQUENTIAL);
    auto updated = digest.update(
        {static_cast<const std::uint8_t*>(mapped) + skip, static_cast<std::size_t>(take)});
    ::munmap(mapped, span);
    if (!updated) return updated;
    offset += take;
    length -= take;
  }
  return {};
}

Result<void> hash_file_by_read(Digest& digest, int fd, std::uint64_t offset, std::uint64_t length,
                               const std::atomic<bool>* stop) {
  std::vector<std::uint8_t> buffer(1 << 20);
  while (length > 0) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
      return fail(Errc::closed, "hash fd " + std::to_string(fd), "stopped");
    }
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, buffer.size()));
    const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno(errno, "pread(fd " + std::to_string(fd) + ")");
    if (n == 0) {
      return fail(Errc::corrupt, "hash fd " + std::to_string(fd),
                  "the file ended at byte " + std::to_string(offset) + " while it was hashed");
    }
    if (auto r = digest.update({buffer.data(), static_cast<std::size_t>(n)}); !r) return r;
    offset += static_cast<std::uint64_t>(n);
    length -= static_cast<std::uint64_t>(n);
  }
  return {};
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  text.reserve(bytes.size() * 2);
  for (const std::uint8_t b : bytes) {
    text += kDigits[b >> 4];
    text += kDigits[b & 15];
  }
  return text;
}

std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::vector<std::uint8_t> bytes;
  bytes.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int high = ascii::hex_digit_value(text[i]);
    const int low = ascii::hex_digit_value(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    bytes.push_back(static_cast<std::uint8_t>(high * 16 + low));
  }
  return bytes;
}

std::string to_base64(std::span<const std::uint8_t> bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t left = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = static_cast<std::uint32_t>(bytes[i]) << 16;
    if (left > 1) group |= static_cast<std::uint32_t>(bytes[i + 1]) << 8;
    if (left > 2) group |= bytes[i + 2];
    for (std::size_t k = 0; k < 4; ++k) {
      text += k <= left ? kAlphabet[(group >> (18 - 6 * k)) & 63] : '=';
    }
  }
  return text;
}

std::optional<std::vector<std::uint8_t>> from_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::vector<std::uint8_t> bytes;
  bytes.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::size_t padding = 0;
    if (last && text[i + 3] == '=') padding = text[i + 2] == '=' ? 2 : 1;
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int v = k >= 4 - padding ? 0 : value(text[i + k]);
      if (v < 0) return std::nullopt;
      group = group << 6 | static_cast<std::uint32_t>(v);
    }
    // The bits under the padding must be zero, so every digest has one spelling.
    if ((padding == 1 && (group & 0xff) != 0) || (padding == 2 && (group & 0xffff) != 0)) {
      return std::nullopt;
    }
    bytes.push_back(static_cast<std::uint8_t>(group >> 16));
    if (padding < 2) bytes.push_back(static_cast<std::uint8_t>(group >> 8));
    if (padding < 1) bytes.push_back(static_cast<std::uint8_t>(group));
  }
  return bytes;
}

}  // namespace zc::secure
