#include "zcopy/http/download.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "download_body.hpp"
#include "download_steps.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::http {
namespace detail {
namespace {

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

std::string directory_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Result<Fetched> fetch_following(const Url& url, const DownloadOptions& options,
                                const RequestOptions& request) {
  Url current = url;
  for (int hops = 0;; ++hops) {
    auto response = send_request(current, request);
    if (!response) return std::unexpected(response.error());
    if (!is_redirect(response->head.status)) return Fetched{std::move(*response), current};
    const std::string* location = response->head.header("Location");
    if (location == nullptr) {
      return fail(Errc::corrupt, std::string(request.method) + " " + current.str(),
                  "HTTP " + std::to_string(response->head.status) + " without a Location header");
    }
    if (hops >= options.max_redirects) {
      return fail(Errc::limit_exceeded, std::string(request.method) + " " + url.str(),
                  "too many redirects (more than " + std::to_string(options.max_redirects) +
                      "), the last to '" + *location + "'");
    }
    auto next = resolve_location(current, *location);
    if (!next) return std::unexpected(std::move(next.error()).with_context("follow redirect"));
    current = std::move(*next);
  }
}

std::unexpected<Error> http_status_error(const Fetched& fetched) {
  const ResponseHead& head = fetched.response.head;
  return fail(Errc::rejected, "GET " + fetched.url.str(),
              "HTTP " + std::to_string(head.status) + " " + head.reason);
}

Result<Fd> open_part(const std::string& part, bool truncate) {
  const int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | (truncate ? O_TRUNC : 0);
  return Fd::open(part, flags, 0644);
}

void account(net::TransferLedger& ledger, DownloadMethod method, bool chunked,
             std::uint64_t bytes) {
  ledger.bytes += bytes;
  if (chunked || method == DownloadMethod::copy) {
    // recv() copies out of the socket buffer, pwrite() copies into the page cache.
    ledger.bytes_copied_kernel += 2 * bytes;
  } else {
    // Page references move from the socket into the pipe; the pipe-to-file splice copies them
    // into the page cache once.
    ledger.bytes_zero_copy += bytes;
    ledger.bytes_copied_kernel += bytes;
  }
}

Result<void> finish_part(Fd file, const std::string& part, const DownloadOptions& options,
                         std::uint64_t expected_size) {
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return fail_errno(errno, "fstat(" + part + ")");
  if (static_cast<std::uint64_t>(st.st_size) != expected_size) {
    return fail(Errc::corrupt, "finish " + part,
                "file holds " + std::to_string(st.st_size) + " bytes, expected " +
                    std::to_string(expected_size));
  }
  if (options.mtime) {
    const timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
                               {.tv_sec = static_cast<time_t>(*options.mtime), .tv_nsec = 0}};
    if (::futimens(file.get(), times) != 0) return fail_errno(errno, "futimens(" + part + ")");
  }
  if (options.sync) {
    if (auto r = sys_call({"fsync", file.get()}, [&] { return ::fsync(file.get()); }); !r) {
      return std::unexpected(std::move(r.error()).with_context(part));
    }
  }
  file.reset();
  if (::rename(part.c_str(), options.output.c_str()) != 0) {
    return fail_errno(errno, "rename(" + part + ", " + options.output + ")");
  }
  if (options.sync) {
    // The rename is durable only once the directory is.
    auto dir = Fd::open(directory_of(options.output), O_RDONLY | O_DIRECTORY);
    if (dir) (void)::fsync(dir->get());
  }
  return {};
}

}  // namespace detail

std::string part_path(const std::string& output) {
  return output + ".part";
}

Result<DownloadResult> download(const Url& url, const DownloadOptions& options) {
  using namespace detail;
  if (options.output.empty()) {
    return fail(Errc::invalid_argument, "download " + url.str(), "no output file name");
  }
  auto method = resolve_download_method(options.method);
  if (!method) return std::unexpected(method.error());
  const std::string part = part_path(options.output);
  std::uint64_t offset = 0;
  struct stat st {};
  if (options.resume && ::lstat(part.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    offset = static_cast<std::uint64_t>(st.st_size);
  }
  if (options.parallel_ranges > 1 && offset == 0) {
    auto ranged = download_ranges(url, options, method->method);
    if (ranged && !method->fallback_note.empty()) {
      ranged->note = method->fallback_note + (ranged->note.empty() ? "" : "; " + ranged->note);
    }
    return ranged;
  }

  net::CpuStopwatch watch;
  DownloadResult result;
  result.note = method->fallback_note;
  RequestOptions request;
  request.timeout = options.timeout;
  if (offset > 0) request.range_from = offset;
  auto fetched = fetch_following(url, options, request);
  if (!fetched) return std::unexpected(fetched.error());
  result.final_url = fetched->url;
  const ResponseHead& head = fetched->response.head;

  bool already_complete = false;
  if (head.status == 416 && offset > 0 && head.range_total == offset) {
    already_complete = true;  // the .part holds the whole file; it only missed its rename
  } else if (head.status == 206 && offset > 0) {
    if (head.content_range->first != offset) {
      return fail(Errc::corrupt, "GET " + fetched->url.str(),
                  "asked for bytes from " + std::to_string(offset) + ", got a range from " +
                      std::to_string(head.content_range->first));
    }
  } else if (head.status == 200) {
    if (offset > 0) {
      const std::string note = "the server ignored the Range request; starting over";
      result.note += result.note.empty() ? note : "; " + note;
      offset = 0;
    }
  } else {
    return http_status_error(*fetched);
  }

  auto file = open_part(part, offset == 0);
  if (!file) return std::unexpected(file.error());
  result.resumed_from = offset;
  std::uint64_t received = 0;
  if (!already_complete && !head.bodiless()) {
    if (options.progress) {
      options.progress->bytes_done.fetch_add(offset, std::memory_order_relaxed);
      if (head.content_length) {
        options.progress->bytes_expected.fetch_add(offset + *head.content_length,
                                                   std::memory_order_relaxed);
      }
    }
    detail::BodyTransfer transfer{
        .socket = fetched->response.socket.get(),
        .file = file->get(),
        .offset = offset,
        .length = head.content_length,
        .chunked = head.chunked,
        .method = method->method,
        .timeout = options.timeout,
        .progress = options.progress ? &options.progress->bytes_done : nullptr,
        .range_progress = nullptr,
        .file_name = part,
    };
    auto moved = receive_body(transfer);
    if (!moved) return std::unexpected(moved.error());
    received = *moved;
    if (head.chunked && method->method != DownloadMethod::copy) {
      const std::string note = "chunked body: decoded in user space, not spliced";
      result.note += result.note.empty() ? note : "; " + note;
    }
  }
  const std::uint64_t size = already_complete ? offset : offset + received;
  if (auto r = finish_part(std::move(*file), part, options, size); !r) {
    return std::unexpected(r.error());
  }
  result.file_size = size;
  result.ledger.method = std::string(to_string(method->method));
  if (head.chunked) result.ledger.method += " (chunked)";
  account(result.ledger, method->method, head.chunked, received);
  watch.stop_into(result.ledger);
  return result;
}

}  // namespace zc::http
