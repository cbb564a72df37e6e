// eventfd, pidfd, timerfd, epoll and futex helpers for sleeping and liveness checks.
#include "zcopy/core/wake.hpp"

#include <linux/futex.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "zcopy/core/syscall.hpp"

namespace zc {

Result<Fd> make_eventfd() {
  auto fd = sys_call("eventfd", [] { return ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); });
  if (!fd) return std::unexpected(fd.error());
  return Fd::adopt(*fd);
}

void signal_eventfd(int fd) noexcept {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is saturated, which wakes the reader just as well.
  (void)sys_call({"write(eventfd)", fd}, [&] { return ::write(fd, &one, sizeof one); });
}

void drain_eventfd(int fd) noexcept {
  std::uint64_t value = 0;
  (void)sys_call({"read(eventfd)", fd}, [&] { return ::read(fd, &value, sizeof value); });
}

Result<Fd> open_pidfd(pid_t pid) {
  const std::string op = "pidfd_open(pid " + std::to_string(pid) + ")";
  auto fd =
      sys_call(op.c_str(), [&] { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); });
  if (!fd) return std::unexpected(fd.error());
  return Fd::adopt(*fd);
}

bool pidfd_exited(int pidfd) noexcept {
  pollfd p{pidfd, POLLIN, 0};
  auto ready = sys_call({"poll(pidfd)", pidfd}, [&] { return ::poll(&p, 1, 0); });
  return ready && *ready > 0;
}

Result<Fd> make_timerfd() {
  auto fd = sys_call("timerfd_create(CLOCK_MONOTONIC)",
                     [] { return ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); });
  if (!fd) return std::unexpected(fd.error());
  return Fd::adopt(*fd);
}

void set_timerfd(int fd, Clock::time_point when) noexcept {
  // steady_clock is CLOCK_MONOTONIC, so its time since epoch is an absolute expiry.
  const auto since = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch());
  itimerspec spec{};
  spec.it_value.tv_sec = static_cast<time_t>(since.count() / 1'000'000'000);
  spec.it_value.tv_nsec = static_cast<long>(since.count() % 1'000'000'000);
  if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
  (void)sys_call({"timerfd_settime", fd},
                 [&] { return ::timerfd_settime(fd, TFD_TIMER_ABSTIME, &spec, nullptr); });
}

Result<Fd> make_epoll() {
  auto fd = sys_call("epoll_create1", [] { return ::epoll_create1(EPOLL_CLOEXEC); });
  if (!fd) return std::unexpected(fd.error());
  return Fd::adopt(*fd);
}

Result<void> epoll_add(int epoll_fd, int fd, std::uint32_t events, std::uint64_t data) {
  epoll_event event{};
  event.events = events;
  event.data.u64 = data;
  auto added = sys_call({"epoll_ctl(EPOLL_CTL_ADD)", fd},
                        [&] { return ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event); });
  if (!added) return std::unexpected(added.error());
  return {};
}

static_assert(std::atomic<std::uint32_t>::is_always_lock_free &&
                  sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "a futex is a plain 32-bit word");

bool futex_wait(const std::atomic<std::uint32_t>* word, std::uint32_t expected,
                Clock::time_point deadline) noexcept {
  const auto since =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch());
  timespec until{};
  until.tv_sec = static_cast<time_t>(since.count() / 1'000'000'000);
  until.tv_nsec = static_cast<long>(since.count() % 1'000'000'000);
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so retries after EINTR do not
  // stretch the wait.
  const long rc = ::syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, &until, nullptr,
                            FUTEX_BITSET_MATCH_ANY);
  return rc == 0 || errno != ETIMEDOUT;
}

void futex_wake(const std::atomic<std::uint32_t>* word, int count) noexcept {
  (void)::syscall(SYS_futex, word, FUTEX_WAKE, count, nullptr, nullptr, 0);
}

int remaining_ms(Clock::time_point deadline) noexcept {
  const auto left = deadline - Clock::now();
  if (left <= Clock::duration::zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > 1'000'000 ? 1'000'000 : static_cast<int>(ms);
}

}  // namespace zc
