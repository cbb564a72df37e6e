// FUSE over io_uring: a thread per kernel queue that feeds libfuse from ring entries.
#include "uring_queues.hpp"

#include <linux/io_uring.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>

#include "uring_abi.hpp"
#include "worker_privileges.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/net/io_uring.hpp"

namespace zc::fs {
namespace {

// The rebuilt request (fuse_in_header, then the fixed argument) goes in front of the payload.
constexpr std::size_t kPrefix = sizeof(abi::InHeader) + abi::kUringOpInOutSize;
constexpr std::uint64_t kWakeTag = ~std::uint64_t{0};

struct Entry {
  abi::UringReqHeader header{};
  std::unique_ptr<std::byte[]> buffer;  // kPrefix + the payload the kernel fills
  iovec iov[2]{};
  std::byte* payload() noexcept { return buffer.get() + kPrefix; }
};

void prepare_command(io_uring_sqe* sqe, int device_fd, std::uint32_t command, std::uint16_t qid,
                     std::uint64_t commit_id, const iovec* iov, std::uint64_t tag) {
  std::memset(sqe, 0, 2 * sizeof *sqe);  // a 128-byte entry: the command area is its second half
  sqe->opcode = IORING_OP_URING_CMD;
  sqe->fd = device_fd;
  sqe->cmd_op = command;
  if (iov != nullptr) {
    sqe->addr = reinterpret_cast<std::uintptr_t>(iov);
    sqe->len = 2;
  }
  sqe->user_data = tag;
  abi::UringCmdReq request{};
  request.qid = qid;
  request.commit_id = commit_id;
  std::memcpy(sqe->cmd, &request, sizeof request);
}

void prepare_wake_poll(io_uring_sqe* sqe, int wake_fd) {
  std::memset(sqe, 0, 2 * sizeof *sqe);
  sqe->opcode = IORING_OP_POLL_ADD;
  sqe->fd = wake_fd;
  sqe->poll32_events = POLLIN;
  sqe->user_data = kWakeTag;
}

// The connection is over: no entry comes back.
bool connection_gone(int error) {
  return error == ENOTCONN || error == ECONNABORTED || error == ECANCELED || error == ENODEV;
}

std::string register_detail(int error) {
  switch (error) {
    case EOPNOTSUPP:
      return "the kernel refused FUSE over io_uring (fuse module parameter enable_uring is off)";
    case EINVAL:
      return "the kernel refused the ring entry (queue number, buffer sizes or 128-byte SQEs)";
    default:
      return "";
  }
}

}  // namespace

struct UringQueues::Queue {
  std::uint16_t qid = 0;
  fuse_session* session = nullptr;
  DeviceHooks* hooks = nullptr;
  int device_fd = -1;
  int wake_fd = -1;
  std::size_t payload_size = 0;
  std::atomic<std::uint64_t>* requests = nullptr;
  std::unique_ptr<Entry[]> entries;  // never moved: the kernel holds their addresses

  std::mutex mutex;
  std::condition_variable cv;
  std::optional<Result<void>> started;  // protected by mutex

  void report(Result<void> result) {
    {
      const std::lock_guard lock(mutex);
      started = std::move(result);
    }
    cv.notify_all();
  }

  // The request in `entry`, served by libfuse; its reply left in the entry for the commit.
  void serve_request(Entry& entry) {
    abi::InHeader in{};
    std::memcpy(&in, entry.header.in_out, sizeof in);
    const std::size_t payload_bytes = entry.header.ring_ent_in_out.payload_sz;
    RingReply reply{entry.header.in_out, entry.payload(), payload_size};
    const std::size_t args = in.len >= sizeof in ? in.len - sizeof in : 0;
    if (in.len >= sizeof in && payload_bytes <= payload_size && payload_bytes <= args &&
        args - payload_bytes <= abi::kUringOpInOutSize) {
      const std::size_t fixed = args - payload_bytes;
      std::byte* start = entry.payload() - fixed - sizeof in;
      std::memcpy(start, &in, sizeof in);
      std::memcpy(start + sizeof in, entry.header.op_in, fixed);
      fuse_buf buf{};
      buf.mem = start;
      buf.size = in.len;
      hooks->request_arrived();
      requests->fetch_add(1, std::memory_order_relaxed);
      DeviceHooks::capture_replies(&reply);
      fuse_session_process_buf(session, &buf);
      DeviceHooks::capture_replies(nullptr);
    }
    if (!reply.written) {
      const abi::OutHeader out{sizeof(abi::OutHeader), -EIO, in.unique};
      std::memcpy(entry.header.in_out, &out, sizeof out);
      reply.payload_size = 0;
    }
    entry.header.ring_ent_in_out.payload_sz = static_cast<std::uint32_t>(reply.payload_size);
  }

  void run() {
    ::pthread_setname_np(::pthread_self(), kWorkerThreadName);
    keep_only_worker_capabilities();
    // The kernel picks the queue by the caller's CPU and copies the request in this thread's
    // context: staying on that CPU keeps both warm.
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(qid, &cpus);
    (void)::pthread_setaffinity_np(::pthread_self(), sizeof cpus, &cpus);

    auto ring = net::IoUring::create(2 * kEntriesPerQueue + 2, IORING_SETUP_SQE128);
    if (!ring) {
      report(std::unexpected(ring.error()));
      return;
    }
    prepare_wake_poll(ring->get_sqe(), wake_fd);
    for (unsigned i = 0; i < kEntriesPerQueue; ++i) {
      prepare_command(ring->get_sqe(), device_fd, abi::kUringCmdRegister, qid, 0, entries[i].iov,
                      i);
    }
    if (auto submitted = ring->submit(); !submitted) {
      report(std::unexpected(submitted.error()));
      return;
    }
    // A refused registration completes at once; an accepted one only with its first request.
    std::vector<std::pair<std::uint64_t, int>> early;
    while (io_uring_cqe* cqe = ring->peek_cqe()) {
      early.emplace_back(cqe->user_data, cqe->res);
      ring->seen(cqe);
    }
    for (const auto& [tag, res] : early) {
      if (tag != kWakeTag && res < 0) {
        report(fail_errno(-res,
                          "io_uring FUSE_IO_URING_CMD_REGISTER(queue " + std::to_string(qid) + ")",
                          register_detail(-res)));
        return;
      }
    }
    report({});

    unsigned armed = kEntriesPerQueue;
    auto complete = [&](std::uint64_t tag, int res) {
      if (tag == kWakeTag) return false;
      if (res < 0 || tag >= kEntriesPerQueue) {
        // The entry is no longer the kernel's to fill: the connection ended, or a commit was
        // refused (its request already ended).
        --armed;
        return !connection_gone(-res) && armed > 0;
      }
      Entry& entry = entries[tag];
      serve_request(entry);
      prepare_command(ring->get_sqe(), device_fd, abi::kUringCmdCommitAndFetch, qid,
                      entry.header.ring_ent_in_out.commit_id, nullptr, tag);
      return true;
    };
    bool going = true;
    for (const auto& [tag, res] : early) going = going && complete(tag, res);
    while (going) {
      if (auto waited = ring->submit_and_wait(1); !waited) break;
      while (io_uring_cqe* cqe = ring->peek_cqe()) {
        const std::uint64_t tag = cqe->user_data;
        const int res = cqe->res;
        ring->seen(cqe);
        if (!complete(tag, res)) {
          going = false;
          break;
        }
      }
    }
    // Closing the ring cancels what the kernel still holds.
  }
};

unsigned UringQueues::queue_count() {
  // "0-1" or "0,2-5": the kernel counts queues up to the highest possible CPU.
  std::ifstream in("/sys/devices/system/cpu/possible");
  std::string text;
  if (in && std::getline(in, text)) {
    std::size_t end = text.size();
    while (end > 0 && (text[end - 1] < '0' || text[end - 1] > '9')) --end;
    std::size_t begin = end;
    while (begin > 0 && text[begin - 1] >= '0' && text[begin - 1] <= '9') --begin;
    if (begin < end && end - begin <= 5)
      return static_cast<unsigned>(std::stoul(text.substr(begin, end - begin))) + 1;
  }
  return static_cast<unsigned>(std::max(1, ::get_nprocs_conf()));
}

Result<std::unique_ptr<UringQueues>> UringQueues::start(fuse_session* session, DeviceHooks& hooks,
                                                        int device_fd, std::size_t payload_size) {
  std::unique_ptr<UringQueues> self(new UringQueues());
  auto wake = sys_call("eventfd", [] { return ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); });
  if (!wake) return std::unexpected(wake.error());
  self->wake_ = Fd::adopt(*wake);
  const unsigned count = queue_count();
  for (unsigned qid = 0; qid < count; ++qid) {
    auto queue = std::make_unique<Queue>();
    queue->qid = static_cast<std::uint16_t>(qid);
    queue->session = session;
    queue->hooks = &hooks;
    queue->device_fd = device_fd;
    queue->wake_fd = self->wake_.get();
    queue->payload_size = payload_size;
    queue->requests = &self->requests_;
    queue->entries = std::make_unique<Entry[]>(kEntriesPerQueue);
    for (unsigned i = 0; i < kEntriesPerQueue; ++i) {
      Entry& entry = queue->entries[i];
      entry.buffer = std::make_unique<std::byte[]>(kPrefix + payload_size);
      entry.iov[0] = {&entry.header, sizeof entry.header};
      entry.iov[1] = {entry.payload(), payload_size};
    }
    self->queues_.push_back(std::move(queue));
  }
  for (auto& queue : self->queues_) {
    Queue* raw = queue.get();
    self->threads_.emplace_back([raw] { raw->run(); });
  }
  for (auto& queue : self->queues_) {
    std::unique_lock lock(queue->mutex);
    queue->cv.wait(lock, [&] { return queue->started.has_value(); });
    if (!*queue->started) {
      Error error = queue->started->error();
      lock.unlock();
      self->stop();
      return std::unexpected(std::move(error));
    }
  }
  return self;
}

UringQueues::~UringQueues() {
  stop();
}

void UringQueues::stop() {
  const std::uint64_t one = 1;
  // Never read back: every ring's poll completes, now and later.
  if (wake_) {
    [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof one);
  }
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

}  // namespace zc::fs
