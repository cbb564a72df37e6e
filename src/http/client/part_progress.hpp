// src/http/client/part_progress.hpp: how much of OUTPUT.part is data, kept durable while bytes
// arrive.
//
// Each range's body reports the bytes it wrote; every kSaveInterval (and when a transfer stops,
// fails or is interrupted) one of them saves: it reads the counts, syncs the .part's data, and
// only then replaces OUTPUT.part.zcopy with those counts. A record therefore never claims a byte
// that a crash could still lose, and a SIGKILL costs at most the bytes of one interval.
//
// Thread safety: advance() and maybe_save() are called by every range's thread; save() by any
// thread. One save runs at a time (save_mutex_).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "zcopy/http/client/part_record.hpp"

namespace zc::http::detail {

// How often the record is brought up to date while data arrives.
inline constexpr std::chrono::seconds kSaveInterval{2};

class PartProgress {
 public:
  // `file` is the .part, `dir_fd` its directory (both borrowed, outliving this object);
  // `record` holds the layout and the counts to start from.
  PartProgress(int dir_fd, std::string record_name, int file, PartRecord record, bool sync);

  // Range `range` wrote `bytes` more, after its earlier ones.
  void advance(std::size_t range, std::uint64_t bytes) noexcept;
  std::uint64_t done(std::size_t range) const noexcept;
  // Range `range` holds nothing usable after all (its bytes failed a check); no thread writes it.
  void reset(std::size_t range) noexcept;
  // The ranges' bounds, the size and the validator; never changes, so any thread may read it
  // (the counts in it are those the download started from: done() has the current ones).
  const PartRecord& layout() const noexcept { return record_; }

  // Saves when kSaveInterval has passed since the last save and no other thread is saving.
  Result<void> maybe_save();
  // Syncs the .part's data, then writes the record with the counts read before the sync.
  Result<void> save();

 private:
  Result<void> save_locked();

  int dir_fd_;
  std::string record_name_;
  int file_;
  bool sync_;
  // SYNC POINT: a range adds to its count (release) only after its write returned; a saver reads
  // the counts (acquire) before it syncs, so every byte it records was written before the sync.
  std::unique_ptr<std::atomic<std::uint64_t>[]> done_;
  std::atomic<std::int64_t> next_save_ns_;  // relaxed: only decides when to try
  std::mutex save_mutex_;                   // one writer of the record file at a time
  const PartRecord record_;
};

}  // namespace zc::http::detail
