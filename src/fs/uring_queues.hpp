// src/fs/uring_queues.hpp: the mirror's requests through FUSE over io_uring.
//
// The kernel keeps one queue per possible CPU and sends a request to the queue of the CPU its
// caller runs on; it switches the connection from /dev/fuse to the rings only once every queue
// has an entry registered. So there is a thread per queue, pinned to its CPU, with its own
// io_uring (128-byte SQEs) and kEntriesPerQueue entries, each a header buffer and a payload
// buffer the kernel fills in place. libfuse 3.14 knows nothing of this: a thread rebuilds the
// request as /dev/fuse would have delivered it (in front of the payload, which stays where the
// kernel wrote it), hands it to fuse_session_process_buf, and takes the reply back from the
// device hooks (RingReply) to commit it with the next fetch.
//
// INIT, FORGET and INTERRUPT still come through /dev/fuse, so libfuse's own workers keep
// serving the device beside these threads.
//
// Synchronization: start() and stop() are for the mount's owning thread; each queue thread
// owns its ring and entries. The threads end when stop() makes an eventfd readable (a poll in
// each ring) or the kernel ends the connection.
#pragma once

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "device_hooks.hpp"
#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc::fs {

class UringQueues {
 public:
  static constexpr unsigned kEntriesPerQueue = 4;

  // Registers the entries of every queue on `device_fd`, each with `payload_size` bytes of
  // payload; returns once each queue's registration was accepted or refused. Call after the
  // INIT reply granted FUSE_OVER_IO_URING.
  static Result<std::unique_ptr<UringQueues>> start(fuse_session* session, DeviceHooks& hooks,
                                                    int device_fd, std::size_t payload_size);

  UringQueues(const UringQueues&) = delete;
  UringQueues& operator=(const UringQueues&) = delete;
  ~UringQueues();  // stop()

  // Ends the threads and waits for them; the kernel gets back what they held when their rings
  // close. Idempotent.
  void stop();
  // Requests that arrived through the rings so far (a statistic).
  std::uint64_t requests() const noexcept { return requests_.load(std::memory_order_relaxed); }

  // How many queues the kernel keeps: one per possible CPU.
  static unsigned queue_count();

  struct Queue;

 private:
  UringQueues() = default;
  Fd wake_;  // eventfd; readable once stop() begins
  std::vector<std::unique_ptr<Queue>> queues_;
  std::vector<std::thread> threads_;
  std::atomic<std::uint64_t> requests_{0};
};

}  // namespace zc::fs
