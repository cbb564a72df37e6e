// src/http/server/digest_cache.hpp: each served file's SHA-256, computed once per version, for
// the Repr-Digest field (RFC 9530).
//
// A version is the file's device, inode, size and mtime. Its digest is kept in the file's
// user.zcopy.repr-digest xattr ("sha-256 SIZE MTIME_NS BASE64"), so it survives restarts and is
// shared by every server of the tree, and in memory for file systems without user xattrs. A small
// file is hashed when first asked for; a larger one is hashed by a background thread, and its
// responses go without Repr-Digest until the digest is ready (RFC 9530 makes the field optional).
// A file that changes while it is hashed gets no digest from that pass.
//
// Thread safety: lookup() from any event loop; one mutex guards the memory and the queue, and the
// hashing itself runs outside it.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>

#include "zcopy/core/fd.hpp"

namespace zc::http {

inline constexpr const char* kDigestXattr = "user.zcopy.repr-digest";

class DigestCache {
 public:
  // Files up to `inline_limit` bytes are hashed in the asking loop; larger ones in the background.
  explicit DigestCache(std::uint64_t inline_limit);
  ~DigestCache();
  DigestCache(const DigestCache&) = delete;
  DigestCache& operator=(const DigestCache&) = delete;

  // The base64 SHA-256 of the open file `fd` whose status is `st`, when known or quickly learnt;
  // std::nullopt while a background pass computes it (or when it cannot be computed).
  std::optional<std::string> lookup(int fd, const struct stat& st);

 private:
  using Key = std::tuple<dev_t, ino_t>;
  struct Version {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::string base64;  // empty: queued
  };
  struct Job {
    Fd file;
    Key key;
    Version version;
  };

  void run();
  void remember(const Key& key, const Version& version);

  const std::uint64_t inline_limit_;
  std::mutex mutex_;  // protects known_, queue_, stop_
  std::condition_variable wake_;
  std::map<Key, Version> known_;
  std::deque<Job> queue_;
  bool stop_ = false;
  std::atomic<bool> cancel_{false};  // ends a background pass early (the destructor sets it)
  std::thread worker_;               // started on the first background job
};

// "sha-256=:BASE64:" from a digest's base64 (the Repr-Digest member).
std::string repr_digest_field(const std::string& base64);

}  // namespace zc::http
