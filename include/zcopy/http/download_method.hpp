// zcopy/http/download_method.hpp: how a response body travels from the socket into the file.
//
//   splice  socket -> pipe -> file with splice(2): page references move into the pipe, and the
//           kernel copies them once into the file's page cache. The body never enters user memory.
//   uring   the same two splices, submitted through io_uring.
//   copy    recv() into a user buffer and pwrite() it out: two copies, the classic baseline.
//   auto    splice when the kernel allows it, else copy, saying so in one line.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"

namespace zc::http {

enum class DownloadMethod { automatic, splice, uring, copy };

std::string_view to_string(DownloadMethod method) noexcept;
Result<DownloadMethod> parse_download_method(std::string_view text);

// The method `requested` becomes on this machine, and a one-line note when it had to fall back.
struct ResolvedMethod {
  DownloadMethod method;
  std::string fallback_note;  // empty when nothing changed
};
Result<ResolvedMethod> resolve_download_method(DownloadMethod requested);

}  // namespace zc::http
