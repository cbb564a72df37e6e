// zcopy/http/server/mime_types.hpp: the Content-Type a file is served with, chosen by its
// extension.
//
//   zc::http::mime_type("genome.fa.gz")   // "application/gzip"
//   zc::http::mime_type("README")         // "application/octet-stream"
#pragma once

#include <string_view>

namespace zc::http {

// Case-insensitive on the extension; unknown extensions are application/octet-stream, so a
// browser downloads rather than guesses.
std::string_view mime_type(std::string_view file_name) noexcept;

}  // namespace zc::http
