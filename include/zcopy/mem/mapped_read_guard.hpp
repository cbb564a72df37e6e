// zcopy/mem/mapped_read_guard.hpp: reading a file mapping that another process may shrink.
//
// A shared mapping of a file faults with SIGBUS on a page past the file's end, and a file can be
// truncated by anyone at any moment, after every size check. read_guarded() runs a read of such
// a mapping and turns that fault into an error instead of the death of the process:
//
//   auto read = zc::read_guarded(mapping_bytes, [&] { digest.update(mapping_bytes); });
//   if (!read) ...;  // the file shrank while it was read: drop whatever the read fed
//
// A process-wide SIGBUS handler (installed once, chained to the handler found before it) checks
// whether the faulting address lies in the range the faulting thread declared; if so it jumps
// back into read_guarded(), which returns Errc::system with EFAULT. Any other SIGBUS goes on to
// the previous handler, or kills the process as it would have without the guard.
//
// The jump leaves `fn` in the middle: no destructor of its frames runs and whatever it was
// updating is half done. `fn` must therefore own nothing that needs a destructor and only write
// state the caller throws away on error (a cipher context whose connection is then dropped, a
// buffer it will not send). Guards nest; each thread declares its own range.
#pragma once

#include <cstddef>
#include <span>
#include <type_traits>
#include <utility>

#include "zcopy/core/error.hpp"

namespace zc {

// Runs `read(context)`; a SIGBUS on this thread at an address in `range` ends it early and
// returns EFAULT ("the file shrank while it was read").
Result<void> read_guarded(std::span<const std::byte> range, void (*read)(void*), void* context);

template <class Fn>
requires std::is_invocable_v<Fn&> Result<void> read_guarded(std::span<const std::byte> range,
                                                            Fn&& fn) {
  return read_guarded(
      range, [](void* f) { (*static_cast<std::remove_reference_t<Fn>*>(f))(); },
      const_cast<void*>(static_cast<const void*>(std::addressof(fn))));
}

}  // namespace zc
