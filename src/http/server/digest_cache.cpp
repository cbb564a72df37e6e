#include "digest_cache.hpp"

#include <fcntl.h>
#include <sys/xattr.h>

#include <cstdio>

#include "zcopy/secure/digest.hpp"

namespace zc::http {
namespace {

// More versions than this in memory, and the oldest knowledge is dropped (the xattrs keep theirs).
constexpr std::size_t kMaxRemembered = 65536;
// A queue longer than this drops new requests; they are asked for again by the next GET.
constexpr std::size_t kMaxQueued = 1024;

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::string xattr_value(std::uint64_t size, std::int64_t mtime, const std::string& base64) {
  return "sha-256 " + std::to_string(size) + " " + std::to_string(mtime) + " " + base64;
}

// The digest the xattr keeps for exactly this version, if any.
std::optional<std::string> read_xattr(int fd, std::uint64_t size, std::int64_t mtime) {
  char value[256];
  const ssize_t n = ::fgetxattr(fd, kDigestXattr, value, sizeof value - 1);
  if (n <= 0) return std::nullopt;
  const std::string text(value, static_cast<std::size_t>(n));
  const std::string prefix = xattr_value(size, mtime, "");
  if (text.size() != prefix.size() + 44 || text.compare(0, prefix.size(), prefix) != 0) {
    return std::nullopt;  // another version's, or not ours
  }
  return text.substr(prefix.size());
}

std::optional<std::string> hash_whole(int fd, std::uint64_t size, const std::atomic<bool>* stop) {
  auto digest = secure::Digest::create(secure::DigestAlgorithm::sha256);
  // Read, not mapped: a served file may be truncated while it is hashed, and a mapping would
  // fault.
  if (!digest || !secure::hash_file_by_read(*digest, fd, 0, size, stop)) return std::nullopt;
  auto value = digest->finish();
  if (!value) return std::nullopt;
  return secure::to_base64(*value);
}

// Hashes `fd` and keeps the digest in its xattr, unless the file changed meanwhile or `stop`
// was set.
std::optional<std::string> compute(int fd, std::uint64_t size, std::int64_t mtime,
                                   const std::atomic<bool>* stop = nullptr) {
  auto base64 = hash_whole(fd, size, stop);
  struct stat after {};
  if (!base64 || ::fstat(fd, &after) != 0 || static_cast<std::uint64_t>(after.st_size) != size ||
      mtime_ns(after) != mtime) {
    return std::nullopt;
  }
  // Read-only trees and file systems without user xattrs keep the digest in memory only.
  const std::string value = xattr_value(size, mtime, *base64);
  (void)::fsetxattr(fd, kDigestXattr, value.data(), value.size(), 0);
  return base64;
}

}  // namespace

DigestCache::DigestCache(std::uint64_t inline_limit) : inline_limit_(inline_limit) {}

DigestCache::~DigestCache() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  // A pass over a large file would otherwise hold the server's shutdown for as long as it reads.
  cancel_.store(true, std::memory_order_relaxed);
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::optional<std::string> DigestCache::lookup(int fd, const struct stat& st) {
  const Key key{st.st_dev, st.st_ino};
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::int64_t mtime = mtime_ns(st);
  {
    const std::lock_guard lock(mutex_);
    auto it = known_.find(key);
    if (it != known_.end() && it->second.size == size && it->second.mtime_ns == mtime) {
      if (it->second.base64.empty()) return std::nullopt;  // being computed
      return it->second.base64;
    }
  }
  if (auto kept = read_xattr(fd, size, mtime)) {
    remember(key, {size, mtime, *kept});
    return kept;
  }
  if (size <= inline_limit_) {
    auto base64 = compute(fd, size, mtime);
    if (base64) remember(key, {size, mtime, *base64});
    return base64;
  }
  Fd copy = Fd::adopt(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!copy) return std::nullopt;
  const std::lock_guard lock(mutex_);
  if (stop_ || queue_.size() >= kMaxQueued) return std::nullopt;
  if (known_.size() >= kMaxRemembered) known_.clear();
  known_[key] = {size, mtime, {}};
  queue_.push_back({std::move(copy), key, {size, mtime, {}}});
  if (!worker_.joinable()) worker_ = std::thread([this] { run(); });
  wake_.notify_one();
  return std::nullopt;
}

void DigestCache::remember(const Key& key, const Version& version) {
  const std::lock_guard lock(mutex_);
  if (known_.size() >= kMaxRemembered) known_.clear();
  known_[key] = version;
}

void DigestCache::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    auto base64 = compute(job.file.get(), job.version.size, job.version.mtime_ns, &cancel_);
    const std::lock_guard lock(mutex_);
    auto it = known_.find(job.key);
    const bool same = it != known_.end() && it->second.size == job.version.size &&
                      it->second.mtime_ns == job.version.mtime_ns;
    if (base64 && same) {
      it->second.base64 = *base64;
    } else if (same) {
      known_.erase(it);  // changed while hashed: the next request queues the new version
    }
  }
}

std::string repr_digest_field(const std::string& base64) {
  return "sha-256=:" + base64 + ":";
}

}  // namespace zc::http
