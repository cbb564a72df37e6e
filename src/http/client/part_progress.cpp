#include "part_progress.hpp"

#include <unistd.h>

#include "zcopy/core/syscall.hpp"

namespace zc::http::detail {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr std::int64_t kSaveIntervalNs =
    std::chrono::duration_cast<std::chrono::nanoseconds>(kSaveInterval).count();

}  // namespace

PartProgress::PartProgress(int dir_fd, std::string record_name, int file, PartRecord record,
                           bool sync)
    : dir_fd_(dir_fd),
      record_name_(std::move(record_name)),
      file_(file),
      sync_(sync),
      done_(std::make_unique<std::atomic<std::uint64_t>[]>(record.ranges.size())),
      next_save_ns_(now_ns() + kSaveIntervalNs),
      record_(std::move(record)) {
  for (std::size_t i = 0; i < record_.ranges.size(); ++i) {
    done_[i].store(record_.ranges[i].done, std::memory_order_relaxed);
  }
}

void PartProgress::advance(std::size_t range, std::uint64_t bytes) noexcept {
  if (range < record_.ranges.size()) done_[range].fetch_add(bytes, std::memory_order_release);
}

std::uint64_t PartProgress::done(std::size_t range) const noexcept {
  return range < record_.ranges.size() ? done_[range].load(std::memory_order_acquire) : 0;
}

void PartProgress::reset(std::size_t range) noexcept {
  if (range < record_.ranges.size()) done_[range].store(0, std::memory_order_release);
}

Result<void> PartProgress::maybe_save() {
  if (now_ns() < next_save_ns_.load(std::memory_order_relaxed)) return {};
  std::unique_lock lock(save_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return {};  // another range is saving right now
  return save_locked();
}

Result<void> PartProgress::save() {
  std::lock_guard lock(save_mutex_);
  return save_locked();
}

Result<void> PartProgress::save_locked() {
  next_save_ns_.store(now_ns() + kSaveIntervalNs, std::memory_order_relaxed);
  PartRecord snapshot = record_;
  for (std::size_t i = 0; i < snapshot.ranges.size(); ++i) {
    snapshot.ranges[i].done = done_[i].load(std::memory_order_acquire);
  }
  if (sync_) {
    if (auto r = sys_call({"fdatasync", file_}, [&] { return ::fdatasync(file_); }); !r) {
      return std::unexpected(std::move(r.error()).with_context("sync " + record_name_));
    }
  }
  return store_part_record(dir_fd_, record_name_, snapshot, sync_);
}

}  // namespace zc::http::detail
