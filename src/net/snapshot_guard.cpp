// Write-protection of buffers while zero-copy sends of them are in flight (see
// snapshot_guard.hpp).
#include "zcopy/net/snapshot_guard.hpp"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <utility>

#include "zcopy/core/syscall.hpp"

namespace zc::net {

struct SnapshotGuard::State {
  std::span<std::byte> region;
  std::size_t page = 4096;
  Mode mode = Mode::userfaultfd;
  std::string detail;
  Fd uffd;
  std::mutex mutex;
  std::vector<std::uint32_t> holds;  // sends in flight per page
  std::uint64_t protected_pages = 0;

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
};

namespace {

Result<Fd> userfaultfd_for_wp(std::span<std::byte> region) {
  auto fd =
      sys_call("userfaultfd", [] { return ::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK); });
  if (!fd) return std::unexpected(fd.error());
  Fd uffd = Fd::adopt(static_cast<int>(*fd));
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = UFFD_FEATURE_PAGEFAULT_FLAG_WP;
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
  return SnapshotGuard(std::move(state));
}

SnapshotGuard::SnapshotGuard(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}
SnapshotGuard::SnapshotGuard(SnapshotGuard&&) noexcept = default;
SnapshotGuard& SnapshotGuard::operator=(SnapshotGuard&&) noexcept = default;

SnapshotGuard::~SnapshotGuard() {
  if (!state_) return;
  // Leave the memory writable; closing the userfaultfd lifts its protection and wakes writers.
  if (state_->mode == Mode::mprotect && state_->protected_pages > 0) {
    (void)state_->set(0, state_->holds.size(), false);
  }
}

Result<void> SnapshotGuard::protect(std::span<const std::byte> buffer) {
  State& s = *state_;
  auto pages = s.pages_of(buffer);
  if (!pages) return std::unexpected(pages.error());
  std::lock_guard lock(s.mutex);
  return s.update(pages->first, pages->second, true, [&s](std::uint32_t& holds) {
    if (holds++ != 0) return false;
    ++s.protected_pages;
    return true;
  });
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

}  // namespace zc::net
