// A durable JetStream import driven on a thread of its own, read by one local subscriber on
// another (as a subscriber process would: a reader on the import's thread leaves a full channel
// blocking the import for the channel's timeout, and batches wait past their ack wait), for the
// tests that take its servers away. Every message carries its stream sequence in front
// (ImportOptions::sequence_prefix) and is message sequence - 1 of `size` bytes (fill_message),
// so duplicates are recognised and any other mix-up is a failure.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nats_test_support.hpp"
#include "zcopy/channel/subscriber.hpp"
#include "zcopy/nats/importer.hpp"

namespace zc::test {

class SequencedImport {
 public:
  // Starts importing at once; `messages` is the stream's length. The reader spends `per_message`
  // on each message it takes, as a slow subscriber would.
  SequencedImport(nats::Importer& importer, Subscriber& reader, std::uint64_t messages,
                  std::size_t size,
                  std::chrono::milliseconds per_message = std::chrono::milliseconds(0))
      : importer_(importer),
        reader_(reader),
        size_(size),
        per_message_(per_message),
        seen_(messages + 1, 0) {
    importing_ = std::thread([this] { import(); });
    reading_ = std::thread([this] { read(); });
  }
  SequencedImport(const SequencedImport&) = delete;
  SequencedImport& operator=(const SequencedImport&) = delete;
  ~SequencedImport() { stop(); }

  void stop() {
    stop_.store(true);
    if (importing_.joinable()) importing_.join();
    if (reading_.joinable()) reading_.join();
  }
  // Waits (bounded) until `count` distinct messages arrived or the import failed.
  bool wait_for(std::uint64_t count, std::chrono::seconds bound) const {
    const auto until = std::chrono::steady_clock::now() + bound;
    while (distinct_.load() < count && failure().empty() &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return distinct_.load() >= count;
  }
  std::uint64_t distinct() const { return distinct_.load(); }
  // After stop():
  std::uint64_t duplicates() const { return duplicates_; }
  std::uint64_t highest() const { return highest_; }
  std::string failure() const {
    std::lock_guard lock(mutex_);
    return failure_;
  }

 private:
  void fail(std::string why) {
    std::lock_guard lock(mutex_);
    failure_ = std::move(why);
  }
  void import() {
    while (!stop_.load()) {
      if (auto ran = importer_.run_for(std::chrono::milliseconds(10)); !ran) {
        fail(ran.error().message());
        return;
      }
    }
  }
  void read() {
    std::vector<std::byte> scratch;
    while (!stop_.load()) {
      auto sample = reader_.receive(std::chrono::milliseconds(50));
      if (!sample) {
        if (sample.error().code() == Errc::timeout) continue;
        fail("the local subscriber: " + sample.error().message());
        return;
      }
      if (per_message_.count() > 0) std::this_thread::sleep_for(per_message_);
      const auto bytes = sample->bytes();
      std::uint64_t sequence = 0;
      if (bytes.size() >= sizeof sequence) std::memcpy(&sequence, bytes.data(), sizeof sequence);
      if (sequence == 0 || sequence >= seen_.size() ||
          !check_message(bytes.subspan(sizeof sequence), sequence - 1, size_, scratch)) {
        fail("stream sequence " + std::to_string(sequence) + " is not as sent");
        return;
      }
      if (seen_[sequence] != 0) {
        ++duplicates_;  // recognised by its stream sequence
        continue;
      }
      seen_[sequence] = 1;
      highest_ = std::max(highest_, sequence);
      distinct_.fetch_add(1);
    }
  }

  nats::Importer& importer_;
  Subscriber& reader_;
  std::size_t size_;
  std::chrono::milliseconds per_message_;
  std::vector<std::uint8_t> seen_;  // by stream sequence; the reading thread's
  std::uint64_t duplicates_ = 0;
  std::uint64_t highest_ = 0;
  std::atomic<std::uint64_t> distinct_{0};
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::string failure_;
  std::thread importing_;
  std::thread reading_;
};

}  // namespace zc::test
