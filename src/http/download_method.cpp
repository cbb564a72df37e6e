#include "zcopy/http/download_method.hpp"

#include "zcopy/core/capabilities.hpp"

namespace zc::http {

std::string_view to_string(DownloadMethod method) noexcept {
  switch (method) {
    case DownloadMethod::automatic:
      return "auto";
    case DownloadMethod::splice:
      return "splice";
    case DownloadMethod::uring:
      return "uring";
    case DownloadMethod::copy:
      return "copy";
  }
  return "?";
}

Result<DownloadMethod> parse_download_method(std::string_view text) {
  if (text == "auto") return DownloadMethod::automatic;
  if (text == "splice") return DownloadMethod::splice;
  if (text == "uring") return DownloadMethod::uring;
  if (text == "copy") return DownloadMethod::copy;
  if (text == "sendfile") {
    return fail(Errc::invalid_argument, "--method sendfile",
                "sendfile sends from a file to a socket; a download receives, use splice");
  }
  return fail(Errc::invalid_argument, "--method " + std::string(text),
              "expected auto, splice, uring or copy");
}

Result<ResolvedMethod> resolve_download_method(DownloadMethod requested) {
  const Probe& splice = probe(Capability::splice);
  switch (requested) {
    case DownloadMethod::copy:
      return ResolvedMethod{DownloadMethod::copy, {}};
    case DownloadMethod::splice:
      if (!splice.available) {
        return fail(Errc::capability_missing, "--method splice", "splice: " + splice.detail);
      }
      return ResolvedMethod{DownloadMethod::splice, {}};
    case DownloadMethod::uring: {
      const Probe& uring = probe(Capability::io_uring_splice);
      if (!uring.available) {
        return fail(Errc::capability_missing, "--method uring", "io_uring splice: " + uring.detail);
      }
      return ResolvedMethod{DownloadMethod::uring, {}};
    }
    case DownloadMethod::automatic:
      break;
  }
  if (splice.available) return ResolvedMethod{DownloadMethod::splice, {}};
  return ResolvedMethod{DownloadMethod::copy,
                        "auto: splice unavailable (" + splice.detail + "), using copy"};
}

}  // namespace zc::http
