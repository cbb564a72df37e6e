#include "zcopy/http/mirror.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

#include <deque>

#include "zcopy/core/syscall.hpp"
#include "zcopy/http/client.hpp"
#include "zcopy/http/download_batch.hpp"
#include "zcopy/http/mirror_listing.hpp"
#include "zcopy/http/response_chunked.hpp"

namespace zc::http {
namespace {

// A listing is metadata; anything larger is not one.
constexpr std::size_t kMaxListingBytes = 64 << 20;

Result<std::string> read_small_body(ClientResponse& response, const std::string& what) {
  const int fd = response.socket.get();
  const ResponseHead& head = response.head;
  if (head.content_length && *head.content_length > kMaxListingBytes) {
    return fail(Errc::limit_exceeded, what, "listing larger than 64 MiB");
  }
  std::string raw;
  char buffer[16384];
  for (;;) {
    if (head.content_length && raw.size() >= *head.content_length) break;
    auto n = sys_call({"recv", fd}, [&] { return ::recv(fd, buffer, sizeof(buffer), 0); });
    if (!n) return std::unexpected(std::move(n.error()).with_context(what));
    if (*n == 0) break;
    raw.append(buffer, static_cast<std::size_t>(*n));
    if (raw.size() > kMaxListingBytes + 4096) {
      return fail(Errc::limit_exceeded, what, "listing larger than 64 MiB");
    }
  }
  if (head.content_length) {
    if (raw.size() < *head.content_length) return fail(Errc::closed, what, "truncated listing");
    raw.resize(static_cast<std::size_t>(*head.content_length));
    return raw;
  }
  if (!head.chunked) return raw;
  std::string body;
  ChunkedDecoder decoder;
  auto used = decoder.feed(raw, [&](std::string_view data) -> Result<void> {
    body.append(data);
    return {};
  });
  if (!used) return std::unexpected(std::move(used.error()).with_context(what));
  if (!decoder.done()) return fail(Errc::closed, what, "truncated chunked listing");
  return body;
}

Result<Listing> fetch_listing(const Url& url, const DownloadOptions& options) {
  const std::string what = "list " + url.str();
  RequestOptions request;
  request.accept = "application/json";
  request.timeout = options.timeout;
  auto response = send_request(url, request);
  if (!response) return std::unexpected(response.error());
  if (response->head.status != 200) {
    return fail(Errc::rejected, what,
                "HTTP " + std::to_string(response->head.status) + " " + response->head.reason);
  }
  const std::string* type = response->head.header("Content-Type");
  if (type == nullptr || !type->starts_with("application/json")) {
    return fail(Errc::rejected, what,
                "no JSON listing (Content-Type '" + (type ? *type : std::string()) +
                    "'); -r needs a zcopy serve directory URL ending in '/'");
  }
  auto body = read_small_body(*response, what);
  if (!body) return std::unexpected(body.error());
  auto listing = parse_listing(*body);
  if (!listing) return std::unexpected(std::move(listing.error()).with_context(what));
  return listing;
}

// Creates `path` if needed and makes sure it is a real directory, not a symlink out of the tree.
Result<void> ensure_directory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail_errno(errno, "mkdir(" + path + ")");
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return fail_errno(errno, "lstat(" + path + ")");
  if (!S_ISDIR(st.st_mode)) {
    return fail(Errc::rejected, "mirror into " + path, "exists and is not a directory");
  }
  return {};
}

bool already_complete(const std::string& path, const ListingEntry& entry) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         static_cast<std::uint64_t>(st.st_size) == entry.size && st.st_mtim.tv_sec == entry.mtime;
}

}  // namespace

Result<MirrorResult> mirror(const Url& directory, const MirrorOptions& options) {
  if (directory.target.empty() || directory.target.find('?') != std::string::npos ||
      directory.target.back() != '/') {
    return fail(Errc::invalid_argument, "get -r " + directory.str(),
                "a directory URL must end in '/'");
  }
  MirrorResult result;
  if (auto r = ensure_directory(options.output_dir); !r) return std::unexpected(r.error());
  struct Pending {
    Url url;
    std::string local;
    int depth;
  };
  std::deque<Pending> directories{{directory, options.output_dir, 0}};
  std::vector<DownloadJob> jobs;
  while (!directories.empty()) {
    Pending dir = std::move(directories.front());
    directories.pop_front();
    auto listing = fetch_listing(dir.url, options.download);
    if (!listing) return std::unexpected(listing.error());
    ++result.directories;
    for (const ListingEntry& entry : listing->entries) {
      if (auto r = check_entry_name(entry.name); !r) {
        return std::unexpected(std::move(r.error()).with_context("list " + dir.url.str()));
      }
      Url child = dir.url;
      child.target += percent_encode_segment(entry.name);
      const std::string local = dir.local + "/" + entry.name;
      if (entry.directory) {
        if (dir.depth + 1 > options.max_depth) {
          return fail(Errc::limit_exceeded, "mirror " + child.str(), "directory tree too deep");
        }
        if (auto r = ensure_directory(local); !r) return std::unexpected(r.error());
        child.target += '/';
        directories.push_back({std::move(child), local, dir.depth + 1});
        continue;
      }
      if (already_complete(local, entry)) {
        ++result.files_skipped;
        continue;
      }
      DownloadJob job{std::move(child), options.download};
      job.options.output = local;
      job.options.mtime = entry.mtime;
      job.options.resume = true;  // an interrupted mirror left .part files; finish them
      job.options.parallel_ranges = 1;
      jobs.push_back(std::move(job));
    }
  }
  net::CpuStopwatch watch;
  auto results = download_all(jobs, options.parallel);
  result.ledger.method = std::string(to_string(options.download.method));
  for (auto& r : results) {
    if (!r) {
      result.failures.push_back(std::move(r.error()));
      continue;
    }
    ++result.files_downloaded;
    result.ledger.method = r->ledger.method;
    result.ledger.bytes += r->ledger.bytes;
    result.ledger.bytes_zero_copy += r->ledger.bytes_zero_copy;
    result.ledger.bytes_copied_user += r->ledger.bytes_copied_user;
    result.ledger.bytes_copied_kernel += r->ledger.bytes_copied_kernel;
  }
  // Per-file CPU figures overlap when files run side by side; the whole run's figure is honest.
  watch.stop_into(result.ledger);
  return result;
}

}  // namespace zc::http
