// zcopy/http/open_beneath.hpp: open a path that the kernel keeps inside a directory.
//
//   zc::Result<zc::Fd> f = zc::http::open_beneath(root.get(), "sub/a.txt", O_RDONLY);
//
// openat2(2) with RESOLVE_BENEATH refuses, during the lookup itself, any step that would leave the
// directory: "..", absolute symlinks and relative symlinks that climb out (EXDEV), and /proc magic
// links. That closes the race a check-then-open would leave. An absolute symlink is refused even
// when it names a place inside the directory: the kernel cannot tell without leaving it.
#pragma once

#include <cstdint>
#include <string>

#include "zcopy/core/fd.hpp"

namespace zc::http {

// `extra_resolve` adds RESOLVE_* flags, e.g. RESOLVE_NO_SYMLINKS where no symlink may be crossed
// at all (a mirror writing its own tree).
Result<Fd> open_beneath(int root_fd, const std::string& relative, int flags,
                        std::uint64_t extra_resolve = 0);

// The HTTP status an open_beneath failure deserves: 404 for missing or escaping paths (the
// client learns nothing about what lies outside), 403 for permission, 500 otherwise.
int status_for_open_error(const Error& error) noexcept;

}  // namespace zc::http
