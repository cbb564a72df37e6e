// The steps both kinds of download share: where the files go, what to resume, redirects, the
// .part's lock, and the final rename.
#include "download_steps.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "file_hasher.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/http/open_beneath.hpp"

namespace zc::http::detail {
namespace {

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

const std::string& header_or_empty(const ResponseHead& head, std::string_view name) {
  static const std::string kEmpty;
  const std::string* value = head.header(name);
  return value ? *value : kEmpty;
}

}  // namespace

Result<OutputPlace> open_output_place(const DownloadOptions& options) {
  const std::string& output = options.output;
  const std::size_t slash = output.rfind('/');
  OutputPlace place;
  place.name = slash == std::string::npos ? output : output.substr(slash + 1);
  if (place.name.empty() || place.name == "." || place.name == "..") {
    return fail(Errc::invalid_argument, "download to " + output, "not a file name");
  }
  place.part = part_path(place.name);
  place.record = record_path(place.name);
  place.shown_part = part_path(output);
  place.shown_record = record_path(output);
  std::string directory = slash == std::string::npos ? "." : output.substr(0, slash);
  if (directory.empty()) directory = "/";
  Result<Fd> opened =
      options.beneath_fd >= 0
          ? open_beneath(options.beneath_fd, directory, O_RDONLY | O_DIRECTORY, RESOLVE_NO_SYMLINKS)
          : Fd::open(directory, O_RDONLY | O_DIRECTORY);
  if (!opened)
    return std::unexpected(std::move(opened.error()).with_context("download to " + output));
  place.directory = std::move(*opened);
  return place;
}

Result<ResumePlan> plan_resume(const OutputPlace& place, const DownloadOptions& options) {
  ResumePlan plan;
  if (!options.resume) return plan;
  struct stat st {};
  if (::fstatat(place.directory.get(), place.part.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno != ENOENT) return fail_errno(errno, "stat(" + place.shown_part + ")");
    // Nothing to resume; a record without its .part describes nothing.
    remove_part_record(place.directory.get(), place.record);
    return plan;
  }
  if (!S_ISREG(st.st_mode)) {
    return fail(Errc::rejected, "resume " + place.shown_part, "not a regular file");
  }
  plan.part_size = static_cast<std::uint64_t>(st.st_size);
  auto record = load_part_record(place.directory.get(), place.record);
  if (record && *record) {
    plan.record = std::move(**record);
    return plan;
  }
  if (!options.force_resume) {
    if (!record) {
      return fail(Errc::corrupt, "resume " + place.shown_part,
                  record.error().message() + "; remove " + place.shown_part +
                      " to start over, or use --continue=force to trust its bytes");
    }
    return fail(Errc::rejected, "resume " + place.shown_part,
                "no record of where it came from (" + place.shown_record +
                    "), so it may be any file; use --continue=force to resume it anyway, or "
                    "remove it");
  }
  plan.forced = true;
  return plan;
}

Result<Fetched> fetch_following(const Url& url, const DownloadOptions& options,
                                RequestOptions request) {
  request.timeout = options.timeout;
  request.stop = options.stop;
  request.tls = options.tls;
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

std::string tls_method_name(const secure::Session& session) {
  return session.path() == secure::ReadPath::record_layer ? "tls-in-place" : "tls-ssl_read";
}

std::unexpected<Error> http_status_error(const Fetched& fetched) {
  const ResponseHead& head = fetched.response.head;
  return fail(Errc::rejected, "GET " + fetched.url.str(),
              "HTTP " + std::to_string(head.status) + " " + head.reason);
}

void take_validators(const ResponseHead& head, PartRecord& record) {
  record.etag = header_or_empty(head, "ETag");
  record.last_modified = header_or_empty(head, "Last-Modified");
}

std::string validator_mismatch(const ResponseHead& head, const PartRecord& record) {
  const std::string& etag = header_or_empty(head, "ETag");
  if (!record.etag.empty() && !etag.empty() && etag != record.etag) {
    return "ETag " + etag + ", the partial download has " + record.etag;
  }
  const std::string& modified = header_or_empty(head, "Last-Modified");
  if (record.etag.empty() && !record.last_modified.empty() && !modified.empty() &&
      modified != record.last_modified) {
    return "Last-Modified " + modified + ", the partial download has " + record.last_modified;
  }
  if (!record.etag.empty() && etag.empty() && record.last_modified.empty()) {
    return "no ETag now, the partial download has " + record.etag;
  }
  return {};
}

DownloadOptions with_checksum(const DownloadOptions& options, const ResponseHead& head,
                              std::string& note) {
  DownloadOptions effective = options;
  if (options.checksum || !options.verify_server_digest) return effective;
  Result<std::optional<Checksum>> announced = std::optional<Checksum>{};
  if (const std::string* field = head.header("Repr-Digest")) {
    announced = parse_repr_digest(*field);
  }
  if (announced && !*announced) {
    if (const std::string* field = head.header("Digest")) announced = parse_digest_field(*field);
  }
  if (!announced) {
    note = announced.error().message() + "; the file is not verified";
  } else {
    effective.checksum = std::move(*announced);
  }
  return effective;
}

Result<Fd> open_part(const OutputPlace& place, bool truncate) {
  // Readable too: a checksum hashes the file through a mapping of it.
  const int flags = O_RDWR | O_CREAT | O_NOFOLLOW;
  auto file = Fd::open_at(place.directory.get(), place.part, flags, 0644);
  if (!file) return std::unexpected(std::move(file.error()).with_context(place.shown_part));
  if (::flock(file->get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return fail(Errc::rejected, "open " + place.shown_part,
                  "another download is writing it right now");
    }
    return fail_errno(errno, "flock(" + place.shown_part + ")");
  }
  // Truncated only once locked, so a running download never loses its bytes to a second one.
  // An empty file is left alone: ext4 flags a file truncated to zero for write-back on close
  // (its guard for files rewritten in place), which would cost the download a flush it never
  // asked for.
  struct stat st {};
  if (truncate && ::fstat(file->get(), &st) != 0) {
    return fail_errno(errno, "fstat(" + place.shown_part + ")");
  }
  if (truncate && st.st_size != 0 && ::ftruncate(file->get(), 0) != 0) {
    return fail_errno(errno, "ftruncate(" + place.shown_part + ")");
  }
  return file;
}

std::string origin_of(const PartRecord& record) {
  if (!record.etag.empty()) return "etag " + record.etag;
  if (!record.last_modified.empty()) return "last-modified " + record.last_modified;
  return "none";
}

Result<void> finish_part(Fd file, const OutputPlace& place, const DownloadOptions& options,
                         std::uint64_t expected_size, const Stamp& stamp, FileHasher* hasher,
                         DownloadResult& result) {
  const std::string& part = place.shown_part;
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return fail_errno(errno, "fstat(" + part + ")");
  if (static_cast<std::uint64_t>(st.st_size) != expected_size) {
    return fail(Errc::corrupt, "finish " + part,
                "file holds " + std::to_string(st.st_size) + " bytes, expected " +
                    std::to_string(expected_size));
  }
  if (options.checksum) {
    auto verified =
        verify_part(file.get(), place, *options.checksum, expected_size, hasher, result.ledger);
    if (!verified) return std::unexpected(verified.error());
    result.verified = std::move(*verified);
  }
  // Only a verified file gets the listed mtime and its origin: a mirror re-run then takes it as
  // complete. An unverified one keeps neither, so the next run fetches it again.
  if (options.mtime && stamp.verified) {
    const timespec times[2] = {{.tv_sec = 0, .tv_nsec = UTIME_OMIT},
                               {.tv_sec = static_cast<time_t>(*options.mtime), .tv_nsec = 0}};
    if (::futimens(file.get(), times) != 0) return fail_errno(errno, "futimens(" + part + ")");
  }
  if (options.keep_origin && stamp.verified) {
    // A file system without user xattrs only loses the re-check of ETags on a later run.
    (void)::fsetxattr(file.get(), kValidatorXattr, stamp.validator.data(), stamp.validator.size(),
                      0);
  } else if (options.keep_origin) {
    (void)::fremovexattr(file.get(), kValidatorXattr);
  }
  if (options.sync) {
    if (auto r = sys_call({"fsync", file.get()}, [&] { return ::fsync(file.get()); }); !r) {
      return std::unexpected(std::move(r.error()).with_context(part));
    }
  }
  const int dir = place.directory.get();
  if (::renameat(dir, place.part.c_str(), dir, place.name.c_str()) != 0) {
    return fail_errno(errno, "rename(" + part + ", " + options.output + ")");
  }
  file.reset();  // the lock goes with it, after the rename
  remove_part_record(dir, place.record);
  // The rename is durable only once the directory is.
  if (options.sync) (void)::fsync(dir);
  return {};
}

Error interrupted(const OutputPlace& place) {
  return Error::make(Errc::closed, "download " + place.shown_part,
                     "interrupted; the partial download and its record are kept: run the same "
                     "command with --continue to resume it");
}

}  // namespace zc::http::detail
