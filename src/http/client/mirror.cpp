#include "zcopy/http/client/mirror.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <set>

#include "memory_body.hpp"
#include "zcopy/http/client/client.hpp"
#include "zcopy/http/client/download_batch.hpp"
#include "zcopy/http/client/mirror_listing.hpp"
#include "zcopy/http/client/part_record.hpp"
#include "zcopy/http/open_beneath.hpp"

namespace zc::http {
namespace {

// Files smaller than this are fetched again rather than resumed, and keep no record meanwhile.
constexpr std::uint64_t kResumableFrom = 1 << 20;

// A listing is metadata; anything larger is not one.
constexpr std::size_t kMaxListingBytes = 64 << 20;

Result<Listing> fetch_listing(const Url& url, const DownloadOptions& options,
                              ConnectionPool& pool) {
  const std::string what = "list " + url.str();
  RequestOptions request;
  request.accept = "application/json";
  request.timeout = options.timeout;
  request.stop = options.stop;
  request.tls = options.tls;
  request.pool = &pool;
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
  auto body =
      detail::read_body_in_memory(*response, kMaxListingBytes, options.timeout, options.stop, what);
  if (!body) return std::unexpected(body.error());
  if (response->head.content_length) return_connection(std::move(*response), url, pool);
  auto listing = parse_listing(*body);
  if (!listing) return std::unexpected(std::move(listing.error()).with_context(what));
  return listing;
}

// Opens `relative` beneath the output root without crossing any symlink: a directory swapped
// for a symlink while the mirror runs makes this fail instead of leading outside.
Result<Fd> open_tree_directory(int root, const std::string& relative) {
  return open_beneath(root, relative.empty() ? "." : relative, O_RDONLY | O_DIRECTORY,
                      RESOLVE_NO_SYMLINKS);
}

// Creates directory `name` in `parent` if needed and makes sure it is a real directory.
Result<void> ensure_directory(int parent, const std::string& name, const std::string& shown) {
  if (::mkdirat(parent, name.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail_errno(errno, "mkdir(" + shown + ")");
  }
  struct stat st {};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return fail_errno(errno, "lstat(" + shown + ")");
  }
  if (!S_ISDIR(st.st_mode)) {
    return fail(Errc::rejected, "mirror into " + shown, "exists and is not a directory");
  }
  return {};
}

// What a re-run does with a file already on disk.
enum class LocalCopy { absent, complete, check_etag };

// A local file with the listed size and mtime is complete if the download that wrote it was
// verified (its origin xattr says so). One whose origin is an ETag is checked with If-None-Match,
// which also notices a change the listing's whole-second mtime cannot show.
LocalCopy local_copy(int dir, const ListingEntry& entry, std::string& etag) {
  auto file = Fd::open_at(dir, entry.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  struct stat st {};
  if (!file || ::fstat(file->get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) != entry.size || st.st_mtim.tv_sec != entry.mtime) {
    return LocalCopy::absent;
  }
  char origin[512];
  const ssize_t n = ::fgetxattr(file->get(), kValidatorXattr, origin, sizeof origin);
  if (n < 0) {
    // Without user xattrs the size and mtime are all there is to go by.
    return errno == ENOTSUP ? LocalCopy::complete : LocalCopy::absent;
  }
  const std::string_view value(origin, static_cast<std::size_t>(n));
  const bool plain = std::ranges::none_of(value, [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7f;
  });
  if (plain && value.starts_with("etag \"") && value.size() > 7 && value.back() == '"') {
    etag = value.substr(5);
    return LocalCopy::check_etag;
  }
  return LocalCopy::complete;
}

// Whether `name` is the .part (or record) another listed file would use while downloading: two
// files may never share one.
bool is_partial_name_of_another(const std::string& name, const std::set<std::string>& files) {
  for (const std::string_view suffix : {".part", ".part.zcopy", ".part.zcopy.new"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix) &&
        files.contains(name.substr(0, name.size() - suffix.size()))) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<MirrorResult> mirror(const Url& directory, const MirrorOptions& options) {
  if (directory.target.empty() || directory.target.find('?') != std::string::npos ||
      directory.target.back() != '/') {
    return fail(Errc::invalid_argument, "get -r " + directory.str(),
                "a directory URL must end in '/'");
  }
  MirrorResult result;
  CpuStopwatch watch;
  ConnectionPool listings;
  if (::mkdir(options.output_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail_errno(errno, "mkdir(" + options.output_dir + ")");
  }
  auto root = Fd::open(options.output_dir, O_RDONLY | O_DIRECTORY);
  if (!root) return std::unexpected(root.error());
  struct Pending {
    Url url;
    std::string relative;  // beneath the output root; "" for the root itself
    int depth;
  };
  std::deque<Pending> directories{{directory, "", 0}};
  std::vector<DownloadJob> jobs;
  auto shown = [&](const std::string& relative) {
    return (std::filesystem::path(options.output_dir) / relative).string();
  };
  while (!directories.empty()) {
    Pending dir = std::move(directories.front());
    directories.pop_front();
    auto listing = fetch_listing(dir.url, options.download, listings);
    if (!listing) return std::unexpected(listing.error());
    ++result.directories;
    auto here = open_tree_directory(root->get(), dir.relative);
    if (!here) {
      return std::unexpected(
          std::move(here.error()).with_context("mirror into " + shown(dir.relative)));
    }
    std::set<std::string> files;
    for (const ListingEntry& entry : listing->entries) {
      if (auto r = check_entry_name(entry.name); !r) {
        return std::unexpected(std::move(r.error()).with_context("list " + dir.url.str()));
      }
      if (!entry.directory) files.insert(entry.name);
    }
    for (const ListingEntry& entry : listing->entries) {
      Url child = dir.url;
      child.target += percent_encode_segment(entry.name);
      const std::string relative =
          dir.relative.empty() ? entry.name : dir.relative + "/" + entry.name;
      if (entry.directory) {
        if (dir.depth + 1 > options.max_depth) {
          return fail(Errc::limit_exceeded, "mirror " + child.str(), "directory tree too deep");
        }
        if (auto r = ensure_directory(here->get(), entry.name, shown(relative)); !r) {
          return std::unexpected(r.error());
        }
        child.target += '/';
        directories.push_back({std::move(child), relative, dir.depth + 1});
        continue;
      }
      if (is_partial_name_of_another(entry.name, files)) {
        result.failures.push_back(
            Error::make(Errc::rejected, "mirror " + child.str(),
                        "not mirrored: " + shown(relative) +
                            " is the name another file of this directory downloads through"));
        continue;
      }
      std::string etag;
      const LocalCopy local = local_copy(here->get(), entry, etag);
      if (local == LocalCopy::complete) {
        ++result.files_skipped;
        continue;
      }
      DownloadJob job{std::move(child), options.download};
      job.options.output = relative;
      job.options.beneath_fd = root->get();
      job.options.mtime = entry.mtime;
      job.options.keep_origin = true;
      job.options.if_none_match = etag;
      // An interrupted mirror left .part files: finish the large ones, fetch small ones again.
      job.options.resumable = entry.size >= kResumableFrom;
      job.options.resume = job.options.resumable;
      job.options.parallel_ranges = 1;
      job.options.sync = options.durability == Durability::file;
      jobs.push_back(std::move(job));
    }
  }
  BatchConnections connections;
  auto results = download_all(jobs, options.parallel, &connections);
  result.connections_opened = listings.opened() + connections.opened;
  result.connections_reused = listings.reused() + connections.reused;
  std::set<std::string> methods;
  for (auto& r : results) {
    if (!r) {
      result.failures.push_back(std::move(r.error()));
      continue;
    }
    if (r->not_modified) {
      ++result.files_skipped;
      continue;
    }
    ++result.files_downloaded;
    methods.insert(r->ledger.method);
    result.ledger.bytes += r->ledger.bytes;
    result.ledger.bytes_zero_copy += r->ledger.bytes_zero_copy;
    result.ledger.bytes_copied_user += r->ledger.bytes_copied_user;
    result.ledger.bytes_copied_kernel += r->ledger.bytes_copied_kernel;
  }
  // Every method that moved a body: small bodies are copied, larger ones spliced.
  result.ledger.method = std::string(to_string(options.download.method));
  if (!methods.empty()) {
    result.ledger.method.clear();
    for (const std::string& m : methods) {
      result.ledger.method += (result.ledger.method.empty() ? "" : "+") + m;
    }
  }
  if (options.durability == Durability::batch && result.files_downloaded > 0) {
    if (auto r = sync_file_system(root->get(), options.output_dir); !r) {
      return std::unexpected(r.error());
    }
    result.syncs = 1;
  }
  // Per-file CPU figures overlap when files run side by side; the whole run's figure is honest.
  watch.stop_into(result.ledger);
  return result;
}

}  // namespace zc::http
