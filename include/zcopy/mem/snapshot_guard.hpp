// zcopy/mem/snapshot_guard.hpp: while a zero-copy send of a buffer is in flight, nobody changes
// what the receiver will get.
//
// A zero-copy send reads the caller's pages later, when the device (or, for local delivery, the
// kernel's copy) gets to them, so a write in between would change the bytes on the wire. The
// guard write-protects the pages of each buffer for as long as a send of it is in flight:
//
//   auto guard = zc::SnapshotGuard::create(region);   // page-aligned memory of this process
//   guard->protect(buffer);                                 // on the sending thread
//   sender.send(buffer, [&] { guard->release(buffer); });  // released by the sender's completion
//
// With userfaultfd (UFFDIO_WRITEPROTECT) a thread that writes to a protected page blocks in the
// kernel until the last send of that page completes, then goes on: the receiver gets the
// snapshot at send time and the writer only waits. Where userfaultfd is unavailable the guard
// falls back to mprotect(PROT_READ): the writer faults (SIGSEGV) instead, which turns a silent
// corruption into a loud one. mode() says which guard is active, and why it fell back.
//
// The sending thread must not write a page while its own send of it is in flight. Completions
// reach the release function only through the sender, on the sending thread (a ZeroCopySender
// runs them inside its send(), poll() or flush()), so that thread would wait for itself forever.
// The guard does not let it: its fault thread sees which thread wrote, and when the writer is the
// one that protected the page, it prints one line naming the thread and the page to stderr and
// aborts the process, as loud as the SIGSEGV of the mprotect fallback. Writers on other threads
// wait as described.
//
// Threads: protect() is called by the sending thread, the one whose sender will run the
// completion that calls release(); release() may be called from any thread. Pages protected by
// several sends in flight are released when the last one completes. Destroying a guard, or
// assigning another over it, leaves every page it protected writable and wakes its writers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc {

class SnapshotGuard {
 public:
  enum class Mode : std::uint8_t { automatic, userfaultfd, mprotect };

  // Guards `region` (page-aligned start and length, private anonymous memory for userfaultfd).
  // Touches every page: write-protection applies to present pages.
  static Result<SnapshotGuard> create(std::span<std::byte> region, Mode mode = Mode::automatic);

  SnapshotGuard(SnapshotGuard&&) noexcept;
  // Unprotects this guard's pages (waking writers held on them) before taking over `other`'s.
  SnapshotGuard& operator=(SnapshotGuard&&) noexcept;
  ~SnapshotGuard();

  // Write-protects the pages `buffer` touches (inside the region) until release(), for a send by
  // the calling thread.
  Result<void> protect(std::span<const std::byte> buffer);
  // Ends one protect() of `buffer` (the same buffer, or one on the same pages); pages no other
  // send holds become writable, waking writers.
  Result<void> release(std::span<const std::byte> buffer);

  Mode mode() const noexcept;
  // Why the guard is the one it is ("userfaultfd write-protect", or the fallback's reason).
  const std::string& detail() const noexcept;
  std::uint64_t pages_protected() const noexcept;

  struct State;

 private:
  explicit SnapshotGuard(std::unique_ptr<State> state) noexcept;
  std::unique_ptr<State> state_;
};

}  // namespace zc
