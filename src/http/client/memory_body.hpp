// src/http/client/memory_body.hpp: a small response body read into memory, bounded.
//
// For bodies that are metadata, never file data: a Metalink document, a directory listing, a
// repaired piece. Reads honour the stall rule and the stop flag like every other body read, and
// never consume past a Content-Length body, so the connection can serve the next request.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>

#include "zcopy/http/client/client.hpp"

namespace zc::http::detail {

// The body of `response` (Content-Length, chunked or up to the close), at most `limit` bytes:
// Errc::limit_exceeded beyond, Errc::closed when it ends early. `what` names the request.
Result<std::string> read_body_in_memory(ClientResponse& response, std::size_t limit,
                                        std::chrono::milliseconds timeout,
                                        const std::atomic<bool>* stop, const std::string& what);

}  // namespace zc::http::detail
