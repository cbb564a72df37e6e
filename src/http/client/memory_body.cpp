#include "memory_body.hpp"

#include <sys/socket.h>

#include <algorithm>

#include "stall_watch.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/http/client/response_chunked.hpp"

namespace zc::http::detail {

Result<std::string> read_body_in_memory(ClientResponse& response, std::size_t limit,
                                        std::chrono::milliseconds timeout,
                                        const std::atomic<bool>* stop, const std::string& what) {
  const ResponseHead& head = response.head;
  const std::string too_large = "body larger than " + std::to_string(limit) + " bytes";
  if (head.content_length && *head.content_length > limit) {
    return fail(Errc::limit_exceeded, what, too_large);
  }
  // A chunked body carries its framing too; allow for it, then judge the decoded size.
  const std::size_t raw_limit = head.chunked ? limit + limit / 8 + 4096 : limit;
  std::string raw;
  char buffer[16384];
  StallWatch watch(timeout, stop, what);
  TlsStream* tls = response.tls.get();
  const int fd = response.socket.get();
  while (!head.content_length || raw.size() < *head.content_length) {
    std::uint64_t got_bytes = 0;
    bool ended = false;
    if (tls != nullptr) {
      auto ready = tls->wait(kReadSlice);
      if (!ready) return std::unexpected(std::move(ready.error()).with_context(what));
      if (*ready) {
        auto got = tls->next();
        if (!got) return std::unexpected(std::move(got.error()).with_context(what));
        ended = got->empty();  // close_notify
        raw.append(reinterpret_cast<const char*>(got->data()), got->size());
        got_bytes = got->size();
      }
    } else {
      // Never past the body: a kept-alive connection's next response starts there.
      const std::size_t ask = head.content_length
                                  ? static_cast<std::size_t>(std::min<std::uint64_t>(
                                        sizeof(buffer), *head.content_length - raw.size()))
                                  : sizeof(buffer);
      auto received = try_sys_call({"recv", fd}, [&] { return ::recv(fd, buffer, ask, 0); });
      if (!received) return std::unexpected(std::move(received.error()).with_context(what));
      if (*received) {  // empty: a receive slice passed
        ended = **received == 0;
        raw.append(buffer, static_cast<std::size_t>(**received));
        got_bytes = static_cast<std::uint64_t>(**received);
      }
    }
    if (ended) break;
    // A TLS record may run past a Content-Length body (handed back below), never past it by more.
    const std::size_t slack = tls != nullptr && head.content_length ? 16384 + 4096 : 0;
    if (raw.size() > raw_limit + slack) return fail(Errc::limit_exceeded, what, too_large);
    if (auto r = watch.update(got_bytes); !r) return std::unexpected(r.error());
  }
  if (head.content_length) {
    if (raw.size() < *head.content_length) return fail(Errc::closed, what, "truncated body");
    if (tls != nullptr && raw.size() > *head.content_length) {
      // The rest of the record belongs to the next response on this connection.
      tls->unread(raw.size() - static_cast<std::size_t>(*head.content_length));
    }
    raw.resize(static_cast<std::size_t>(*head.content_length));
    return raw;
  }
  if (!head.chunked) return raw;
  std::string body;
  ChunkedDecoder decoder;
  auto used = decoder.feed(raw, [&](std::string_view data) -> Result<void> {
    body.append(data);
    if (body.size() > limit) return fail(Errc::limit_exceeded, what, too_large);
    return {};
  });
  if (!used) return std::unexpected(std::move(used.error()).with_context(what));
  if (!decoder.done()) return fail(Errc::closed, what, "truncated chunked body");
  return body;
}

}  // namespace zc::http::detail
