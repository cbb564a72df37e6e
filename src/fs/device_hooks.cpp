// The /dev/fuse read and write hooks that negotiate passthrough inside libfuse's own traffic.
#include "device_hooks.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "mirror.hpp"
#include "uring_abi.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::fs {
namespace {

// The backing id for the reply this thread is about to write; 0 for none.
thread_local std::int32_t pending_backing_id = 0;
// Set while this thread serves a ring entry.
thread_local RingReply* ring_reply = nullptr;

DeviceHooks& hooks_of(void* userdata) {
  return static_cast<Mirror*>(userdata)->device();
}

ssize_t io_read(int fd, void* buf, size_t len, void* userdata) {
  return hooks_of(userdata).on_read(fd, buf, len);
}

ssize_t io_writev(int fd, struct iovec* iov, int count, void* userdata) {
  return hooks_of(userdata).on_writev(fd, iov, count);
}

// Splice in both directions as libfuse would do without custom io. Waiting for the device first
// keeps stop() able to wake these threads too.
ssize_t io_splice_receive(int fdin, off_t* offin, int fdout, off_t* offout, size_t len,
                          unsigned int flags, void* userdata) {
  if (!hooks_of(userdata).wait_for_request(fdin)) return -1;
  const ssize_t n = ::splice(fdin, offin, fdout, offout, len, flags);
  if (n > 0) hooks_of(userdata).request_arrived();
  return n;
}

ssize_t io_splice_send(int fdin, off_t* offin, int fdout, off_t* offout, size_t len,
                       unsigned int flags, void* userdata) {
  hooks_of(userdata).reply_leaving();
  if (ring_reply == nullptr) return ::splice(fdin, offin, fdout, offout, len, flags);
  // A ring entry's reply: the pipe holds the whole message, header first.
  thread_local std::vector<std::byte> staging;
  staging.resize(len);
  std::size_t got = 0;
  while (got < len) {
    const ssize_t n = ::read(fdin, staging.data() + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    got += static_cast<std::size_t>(n);
  }
  const iovec whole{staging.data(), len};
  return ring_reply->take(&whole, 1);
}

const fuse_custom_io kIo{io_writev, io_read, io_splice_receive, io_splice_send};

}  // namespace

ssize_t RingReply::take(const struct iovec* iov, int count) noexcept {
  std::size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  if (total < sizeof(abi::OutHeader) || total - sizeof(abi::OutHeader) > capacity) {
    errno = EOVERFLOW;
    return -1;
  }
  // The header may span segments; the rest is packed into the payload. memmove: a segment may
  // point into the request, which shares the payload buffer.
  std::size_t header_done = 0;
  std::size_t payload_done = 0;
  for (int i = 0; i < count; ++i) {
    const auto* bytes = static_cast<const unsigned char*>(iov[i].iov_base);
    std::size_t len = iov[i].iov_len;
    if (header_done < sizeof(abi::OutHeader)) {
      const std::size_t part = std::min(len, sizeof(abi::OutHeader) - header_done);
      std::memcpy(header + header_done, bytes, part);
      header_done += part;
      bytes += part;
      len -= part;
    }
    if (len > 0) {
      std::memmove(payload + payload_done, bytes, len);
      payload_done += len;
    }
  }
  payload_size = payload_done;
  written = true;
  return static_cast<ssize_t>(total);
}

void DeviceHooks::capture_replies(RingReply* reply) noexcept {
  ring_reply = reply;
}

const fuse_custom_io& DeviceHooks::io() {
  return kIo;
}

Result<void> DeviceHooks::open_wake_fd() {
  auto fd = sys_call("eventfd", [] { return ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); });
  if (!fd) return std::unexpected(fd.error());
  wake_ = Fd::adopt(*fd);
  return {};
}

void DeviceHooks::wake_all() {
  const std::uint64_t one = 1;
  // Never read back: the eventfd stays readable, so every poller wakes, now and later.
  [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof one);
}

void DeviceHooks::grant_passthrough(std::uint32_t max_stack_depth) {
  stack_depth_.store(max_stack_depth, std::memory_order_relaxed);
  grant_.store(true, std::memory_order_release);  // pairs with the acquire in on_writev
}

bool DeviceHooks::init_answered() const {
  const std::lock_guard lock(init_mutex_);
  return init_answered_;
}

bool DeviceHooks::wait_for_init(std::chrono::milliseconds timeout) {
  std::unique_lock lock(init_mutex_);
  return init_cv_.wait_for(lock, timeout, [&] { return init_answered_; });
}

void DeviceHooks::expect_open_reply(std::int32_t backing_id) noexcept {
  pending_backing_id = backing_id;
}

// Each worker waits in its own epoll instance with the device registered EPOLLEXCLUSIVE, so a
// request wakes one idle worker. poll(2) would wake every worker waiting on /dev/fuse for each
// request, and all but one would go back to sleep: on two cores those wake-ups cost more than
// the daemon's own work for a metadata request. The wake eventfd is registered without it, so
// stop() still wakes everyone.
bool DeviceHooks::wait_for_request(int device_fd) {
  struct Waiter {
    Fd epoll;
    int device = -1;
    int wake = -1;
  };
  thread_local Waiter waiter;
  if (!waiter.epoll || waiter.device != device_fd || waiter.wake != wake_.get()) {
    waiter = Waiter{};
    Fd epoll = Fd::adopt(::epoll_create1(EPOLL_CLOEXEC));
    epoll_event device{};
    device.events = EPOLLIN | EPOLLEXCLUSIVE;
    device.data.fd = device_fd;
    epoll_event wake{};
    wake.events = EPOLLIN;
    wake.data.fd = wake_.get();
    if (epoll && ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, device_fd, &device) == 0 &&
        ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wake_.get(), &wake) == 0) {
      waiter.epoll = std::move(epoll);
      waiter.device = device_fd;
      waiter.wake = wake_.get();
    }
  }
  if (!waiter.epoll) {  // no epoll instance to spare: wait as everyone does
    struct pollfd fds[2] = {{device_fd, POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) return false;
    if ((fds[1].revents & POLLIN) == 0) return true;
    errno = EINTR;
    return false;
  }
  epoll_event events[2];
  const int n = ::epoll_wait(waiter.epoll.get(), events, 2, -1);
  if (n < 0) return false;  // EINTR makes libfuse look at the exit flag
  for (int i = 0; i < n; ++i) {
    if (events[i].data.fd == wake_.get()) {
      errno = EINTR;
      return false;
    }
  }
  return true;
}

ssize_t DeviceHooks::on_read(int fd, void* buf, size_t len) {
  if (!wait_for_request(fd)) return -1;
  const ssize_t n = ::read(fd, buf, len);
  (void)replies_.load(std::memory_order_acquire);  // pairs with the release in on_writev
  if (n > 0) requests_.fetch_add(1, std::memory_order_relaxed);
  if (n >= static_cast<ssize_t>(sizeof(abi::InHeader) + sizeof(abi::InitIn)) &&
      !init_read_.load(std::memory_order_relaxed)) {
    abi::InHeader header;
    std::memcpy(&header, buf, sizeof header);
    if (header.opcode == abi::kOpInit) {
      abi::InitIn init;
      std::memcpy(&init, static_cast<const char*>(buf) + sizeof header, sizeof init);
      std::uint64_t flags = init.flags;
      if ((flags & abi::kInitExt) != 0) flags |= std::uint64_t{init.flags2} << 32;
      kernel_offers_.store((flags & abi::kInitPassthrough) != 0, std::memory_order_release);
      kernel_offers_uring_.store((flags & abi::kInitOverIoUring) != 0, std::memory_order_release);
      kernel_offers_killpriv_v2_.store((flags & abi::kInitHandleKillprivV2) != 0,
                                       std::memory_order_release);
      init_unique_.store(header.unique, std::memory_order_release);
      init_read_.store(true, std::memory_order_release);
    }
  }
  return n;
}

ssize_t DeviceHooks::on_writev(int fd, struct iovec* iov, int count) {
  bool is_init_reply = false;
  if (count >= 1 && iov[0].iov_len >= sizeof(abi::OutHeader)) {
    abi::OutHeader header;
    std::memcpy(&header, iov[0].iov_base, sizeof header);
    const std::int32_t backing_id = std::exchange(pending_backing_id, 0);
    if (header.unique != 0 && init_read_.load(std::memory_order_acquire) &&
        header.unique == init_unique_.load(std::memory_order_acquire) && !init_answered()) {
      is_init_reply = true;
      const bool passthrough = grant_.load(std::memory_order_acquire);
      const bool uring = want_uring_.load(std::memory_order_acquire) &&
                         kernel_offers_uring_.load(std::memory_order_acquire);
      const bool killpriv_v2 = kernel_offers_killpriv_v2_.load(std::memory_order_acquire);
      if (header.error == 0 && count >= 2 && iov[1].iov_len >= offsetof(abi::InitOut, unused) &&
          (passthrough || uring || killpriv_v2)) {
        abi::InitOut out{};
        std::memcpy(&out, iov[1].iov_base, std::min(iov[1].iov_len, sizeof out));
        std::uint64_t flags = out.flags | (std::uint64_t{out.flags2} << 32);
        flags |= abi::kInitExt;
        if (killpriv_v2) {
          // Without it the kernel asks for security.capability before every write, since it
          // cannot tell whether the file lost its privileges meanwhile. The mirror clears them
          // where the kernel then expects it (see ops::setattr and ActAsWriter).
          flags |= abi::kInitHandleKillprivV2;
        }
        if (passthrough) {
          flags |= abi::kInitPassthrough;
          flags &= ~abi::kInitWritebackCache;  // the kernel refuses passthrough beside it
          out.max_stack_depth = stack_depth_.load(std::memory_order_relaxed);
        }
        if (uring) {
          flags |= abi::kInitOverIoUring;
          const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
          // Without FUSE_MAX_PAGES the kernel keeps its default of 32 pages.
          const std::size_t pages = std::max<std::size_t>(out.max_pages, 32);
          uring_payload_size_.store(
              std::max({abi::kMinReadBuffer, std::size_t{out.max_write}, pages * page}),
              std::memory_order_release);
          uring_granted_.store(true, std::memory_order_release);
        }
        out.flags = static_cast<std::uint32_t>(flags);
        out.flags2 = static_cast<std::uint32_t>(flags >> 32);
        std::memcpy(iov[1].iov_base, &out, std::min(iov[1].iov_len, sizeof out));
      }
    } else if (backing_id != 0 && header.error == 0 && count >= 2 &&
               iov[count - 1].iov_len >= sizeof(abi::OpenOut)) {
      // OPEN replies carry fuse_open_out alone, CREATE replies after fuse_entry_out: it is the
      // tail of the last segment either way.
      auto* tail = static_cast<char*>(iov[count - 1].iov_base) + iov[count - 1].iov_len -
                   sizeof(abi::OpenOut);
      abi::OpenOut open_out;
      std::memcpy(&open_out, tail, sizeof open_out);
      open_out.open_flags |= abi::kOpenPassthrough;
      open_out.backing_id = backing_id;
      std::memcpy(tail, &open_out, sizeof open_out);
    }
  }
  replies_.fetch_add(1, std::memory_order_release);  // pairs with the acquire in on_read
  const ssize_t n = ring_reply != nullptr ? ring_reply->take(iov, count) : ::writev(fd, iov, count);
  if (is_init_reply) {
    const int saved = errno;
    {
      const std::lock_guard lock(init_mutex_);
      init_answered_ = true;
    }
    init_cv_.notify_all();
    errno = saved;
  }
  return n;
}

Result<std::int32_t> backing_open(int device_fd, int fd) {
  abi::BackingMap map{};
  map.fd = fd;
  auto id = sys_call({"ioctl(FUSE_DEV_IOC_BACKING_OPEN)", device_fd},
                     [&] { return ::ioctl(device_fd, abi::kDevIocBackingOpen, &map); });
  if (!id) return std::unexpected(id.error());
  return static_cast<std::int32_t>(*id);
}

Result<void> backing_close(int device_fd, std::int32_t backing_id) {
  auto id = static_cast<std::uint32_t>(backing_id);
  auto rc = sys_call({"ioctl(FUSE_DEV_IOC_BACKING_CLOSE)", device_fd},
                     [&] { return ::ioctl(device_fd, abi::kDevIocBackingClose, &id); });
  if (!rc) return std::unexpected(rc.error());
  return {};
}

}  // namespace zc::fs
