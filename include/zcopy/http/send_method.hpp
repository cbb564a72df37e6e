// zcopy/http/send_method.hpp: how a response body travels from a file to a socket.
//
//   sendfile  sendfile(2): the socket takes references to page-cache pages; no CPU copy.
//   splice    file -> pipe -> socket with splice(2): page references move through a pipe.
//   uring     the same two splices, submitted together as one linked io_uring batch.
//   copy      pread into a buffer, then send: the classic loop and the baseline (two copies).
//
//   zc::Result<zc::http::MethodChoice> m = zc::http::choose_send_method(SendMethod::automatic);
//   if (!m->note.empty()) std::fprintf(stderr, "%s\n", m->note.c_str());
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"

namespace zc::http {

enum class SendMethod : std::uint8_t { automatic, sendfile, splice, uring, copy };

std::string_view name(SendMethod method) noexcept;  // "auto", "sendfile", ...
std::optional<SendMethod> send_method_from_name(std::string_view text) noexcept;

struct MethodChoice {
  SendMethod method = SendMethod::sendfile;
  // For `automatic`: one line when it had to fall back ("auto: sendfile unavailable: ...; using
  // splice"); empty otherwise.
  std::string note;
};

// Probes the kernel. An explicit method that is missing fails with Errc::capability_missing;
// `automatic` picks sendfile, then splice, then copy.
Result<MethodChoice> choose_send_method(SendMethod requested);

}  // namespace zc::http
