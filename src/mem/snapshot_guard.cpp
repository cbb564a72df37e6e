// Write-protection of buffers while zero-copy sends of them are in flight (see
// snapshot_guard.hpp).
#include "zcopy/mem/snapshot_guard.hpp"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "zcopy/core/syscall.hpp"

namespace zc {

struct SnapshotGuard::State {
  // One protect() not yet released: its pages, and the sending thread that alone can complete it.
  struct Hold {
    std::size_t first = 0;
    std::size_t last = 0;
    pid_t thread = 0;
  };

  // Set once by create(), then read-only.
  std::span<std::byte> region;
  std::size_t page = 4096;
  Mode mode = Mode::userfaultfd;
  std::string detail;
  Fd uffd;
  Fd stop;                    // eventfd: ends the fault thread
  std::thread fault_watcher;  // userfaultfd mode: refuses a sending thread's write to its own send

  mutable std::mutex mutex;          // protects the members below
  std::vector<std::uint32_t> holds;  // sends in flight per page
  std::vector<Hold> in_flight;
  std::uint64_t protected_pages = 0;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  // Stops the fault thread and leaves every page writable: closing the userfaultfd (with `uffd`)
  // lifts its protection and wakes the writers it held.
  ~State() {
    if (fault_watcher.joinable()) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const ssize_t n = ::write(stop.get(), &one, sizeof one);
      fault_watcher.join();
    }
    if (mode == Mode::mprotect && protected_pages > 0) (void)set(0, holds.size(), false);
  }

  // Applies protection (or lifts it) on pages [first, last).
  Result<void> set(std::size_t first, std::size_t last, bool on) {
    if (first == last) return {};
    std::byte* start = region.data() + first * page;
    const std::size_t length = (last - first) * page;
    if (mode == Mode::mprotect) {
      auto rc = sys_call("mprotect", [&] {
        return ::mprotect(start, length, on ? PROT_READ : PROT_READ | PROT_WRITE);
      });
      if (!rc) return std::unexpected(rc.error());
      return {};
    }
    uffdio_writeprotect wp{};
    wp.range.start = reinterpret_cast<std::uintptr_t>(start);
    wp.range.len = length;
    wp.mode = on ? UFFDIO_WRITEPROTECT_MODE_WP : 0;  // lifting it also wakes blocked writers
    auto rc = sys_call({"ioctl(UFFDIO_WRITEPROTECT)", uffd.get()},
                       [&] { return ::ioctl(uffd.get(), UFFDIO_WRITEPROTECT, &wp); });
    if (!rc) return std::unexpected(rc.error());
    return {};
  }

  // Page range of `buffer`, or an error when it lies outside the region.
  Result<std::pair<std::size_t, std::size_t>> pages_of(std::span<const std::byte> buffer) const {
    const auto* begin = buffer.data();
    if (buffer.empty() || begin < region.data() ||
        begin + buffer.size() > region.data() + region.size()) {
      return fail(Errc::invalid_argument, "SnapshotGuard", "buffer outside the guarded region");
    }
    const auto offset = static_cast<std::size_t>(begin - region.data());
    return std::pair{offset / page, (offset + buffer.size() + page - 1) / page};
  }

  // Runs `change` over maximal runs of pages whose hold count crossed zero.
  template <class Step>
  Result<void> update(std::size_t first, std::size_t last, bool on, Step step) {
    std::size_t run = last;
    for (std::size_t p = first; p < last; ++p) {
      if (step(holds[p])) {
        if (run == last) run = p;
        continue;
      }
      if (run != last) {
        if (auto ok = set(run, p, on); !ok) return ok;
        run = last;
      }
    }
    if (run != last) return set(run, last, on);
    return {};
  }

  // The fault thread's answer to a write fault by `thread` at `address`: nothing when another
  // thread's send holds the page (the writer waits for that send's completion); the end of the
  // process when the writer's own send does, since only the writer could complete it.
  void on_write_fault(std::uintptr_t address, pid_t thread) const {
    const auto base = reinterpret_cast<std::uintptr_t>(region.data());
    if (address < base || address >= base + region.size()) return;
    const std::size_t p = (address - base) / page;
    std::lock_guard lock(mutex);
    for (const Hold& hold : in_flight) {
      if (hold.thread != thread || p < hold.first || p >= hold.last) continue;
      char line[256];
      const int n = std::snprintf(
          line, sizeof line,
          "zcopy: SnapshotGuard: thread %d wrote to page %zu of %zu while its own send of it is "
          "in flight; only that thread can complete the send, so it would wait forever\n",
          static_cast<int>(thread), p, holds.size());
      [[maybe_unused]] const ssize_t written =
          ::write(STDERR_FILENO, line, static_cast<std::size_t>(std::max(n, 0)));
      std::abort();
    }
  }

  // Reads the userfaultfd's write faults until `stop` is signalled. A read does not wake the
  // writer: it stays blocked until release() lifts the protection.
  void watch_faults() const {
    pollfd fds[2] = {{.fd = uffd.get(), .events = POLLIN, .revents = 0},
                     {.fd = stop.get(), .events = POLLIN, .revents = 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      uffd_msg messages[16];
      const ssize_t n = ::read(uffd.get(), messages, sizeof messages);
      if (n <= 0) continue;  // EAGAIN: another read took it, or the writer was woken already
      for (std::size_t i = 0; i < static_cast<std::size_t>(n) / sizeof(uffd_msg); ++i) {
        const uffd_msg& m = messages[i];
        if (m.event != UFFD_EVENT_PAGEFAULT ||
            (m.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) == 0)
          continue;
        on_write_fault(static_cast<std::uintptr_t>(m.arg.pagefault.address),
                       static_cast<pid_t>(m.arg.pagefault.feat.ptid));
      }
    }
  }
};

namespace {

Result<Fd> userfaultfd_for_wp(std::span<std::byte> region) {
  auto fd =
      sys_call("userfaultfd", [] { return ::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK); });
  if (!fd) return std::unexpected(fd.error());
  Fd uffd = Fd::adopt(static_cast<int>(*fd));
  uffdio_api api{};
  api.api = UFFD_API;
  // THREAD_ID: fault messages name the writer, so the fault thread can tell the sending thread.
  api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_THREAD_ID;
  if (auto rc = sys_call({"ioctl(UFFDIO_API)", uffd.get()},
                         [&] { return ::ioctl(uffd.get(), UFFDIO_API, &api); });
      !rc) {
    return std::unexpected(rc.error());
  }
  uffdio_register reg{};
  reg.range.start = reinterpret_cast<std::uintptr_t>(region.data());
  reg.range.len = region.size();
  reg.mode = UFFDIO_REGISTER_MODE_WP;
  if (auto rc = sys_call({"ioctl(UFFDIO_REGISTER, MODE_WP)", uffd.get()},
                         [&] { return ::ioctl(uffd.get(), UFFDIO_REGISTER, &reg); });
      !rc) {
    return std::unexpected(rc.error());
  }
  return uffd;
}

pid_t calling_thread() noexcept {
  return static_cast<pid_t>(::syscall(SYS_gettid));
}

}  // namespace

Result<SnapshotGuard> SnapshotGuard::create(std::span<std::byte> region, Mode mode) {
  auto state = std::make_unique<State>();
  state->page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const auto start = reinterpret_cast<std::uintptr_t>(region.data());
  if (region.empty() || start % state->page != 0 || region.size() % state->page != 0) {
    return fail(Errc::invalid_argument, "SnapshotGuard", "region must be whole pages");
  }
  state->region = region;
  state->holds.assign(region.size() / state->page, 0);
  // Present pages only can be write-protected: touch each (a read-modify-write keeps contents).
  for (std::size_t at = 0; at < region.size(); at += state->page) {
    auto* word = reinterpret_cast<std::uint8_t*>(region.data() + at);
    std::atomic_ref<std::uint8_t>(*word).fetch_or(0, std::memory_order_relaxed);
  }
  if (mode != Mode::mprotect) {
    auto uffd = userfaultfd_for_wp(region);
    if (uffd) {
      state->uffd = std::move(*uffd);
      state->mode = Mode::userfaultfd;
      state->detail = "userfaultfd write-protect: writers wait until the send completes";
    } else if (mode == Mode::userfaultfd) {
      return fail(Errc::capability_missing, "SnapshotGuard",
                  "userfaultfd write-protect unavailable: " + uffd.error().message());
    } else {
      state->mode = Mode::mprotect;
      state->detail = "mprotect fallback (writers fault): " + uffd.error().message();
    }
  } else {
    state->mode = Mode::mprotect;
    state->detail = "mprotect (writers fault), as asked";
  }
  if (state->mode == Mode::userfaultfd) {
    auto stop = sys_call("eventfd", [] { return ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); });
    if (!stop) return std::unexpected(stop.error());
    state->stop = Fd::adopt(*stop);
    state->fault_watcher = std::thread([raw = state.get()] { raw->watch_faults(); });
  }
  return SnapshotGuard(std::move(state));
}

SnapshotGuard::SnapshotGuard(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
SnapshotGuard::SnapshotGuard(SnapshotGuard&&) noexcept = default;
SnapshotGuard::~SnapshotGuard() = default;  // ~State unprotects

SnapshotGuard& SnapshotGuard::operator=(SnapshotGuard&& other) noexcept {
  if (this != &other) {
    state_.reset();  // our pages become writable before we take over other's
    state_ = std::move(other.state_);
  }
  return *this;
}

Result<void> SnapshotGuard::protect(std::span<const std::byte> buffer) {
  State& s = *state_;
  auto pages = s.pages_of(buffer);
  if (!pages) return std::unexpected(pages.error());
  std::lock_guard lock(s.mutex);
  auto done = s.update(pages->first, pages->second, true, [&s](std::uint32_t& holds) {
    if (holds++ != 0) return false;
    ++s.protected_pages;
    return true;
  });
  if (done) s.in_flight.push_back({pages->first, pages->second, calling_thread()});
  return done;
}

Result<void> SnapshotGuard::release(std::span<const std::byte> buffer) {
  State& s = *state_;
  auto pages = s.pages_of(buffer);
  if (!pages) return std::unexpected(pages.error());
  std::lock_guard lock(s.mutex);
  for (std::size_t p = pages->first; p < pages->second; ++p) {
    if (s.holds[p] == 0) {
      return fail(Errc::invalid_argument, "SnapshotGuard::release", "page was not protected");
    }
  }
  // The send that ends: one of these pages, the caller's own first (the sending thread).
  const pid_t caller = calling_thread();
  auto same_pages = [&](const State::Hold& h) {
    return h.first == pages->first && h.last == pages->second;
  };
  auto hold = std::find_if(s.in_flight.begin(), s.in_flight.end(), [&](const State::Hold& h) {
    return same_pages(h) && h.thread == caller;
  });
  if (hold == s.in_flight.end()) {
    hold = std::find_if(s.in_flight.begin(), s.in_flight.end(), same_pages);
  }
  if (hold == s.in_flight.end()) {
    return fail(Errc::invalid_argument, "SnapshotGuard::release",
                "no protect() of this buffer is in flight");
  }
  s.in_flight.erase(hold);
  return s.update(pages->first, pages->second, false, [&s](std::uint32_t& holds) {
    if (--holds != 0) return false;
    --s.protected_pages;
    return true;
  });
}

SnapshotGuard::Mode SnapshotGuard::mode() const noexcept {
  return state_->mode;
}
const std::string& SnapshotGuard::detail() const noexcept {
  return state_->detail;
}
std::uint64_t SnapshotGuard::pages_protected() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->protected_pages;
}

}  // namespace zc
