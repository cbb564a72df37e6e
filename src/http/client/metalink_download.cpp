#include "zcopy/http/client/metalink_download.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>

#include "piece_mender.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/http/client/download_sources.hpp"
#include "zcopy/http/open_beneath.hpp"

namespace zc::http {
namespace {

// Opens (making them as needed) the directories of `name` beneath `root`, none through a
// symlink, and returns the one the file goes in.
Result<Fd> open_parent(int root, const std::string& name) {
  auto current = open_beneath(root, ".", O_RDONLY | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
  std::size_t start = 0;
  for (std::size_t slash; current && (slash = name.find('/', start)) != std::string::npos;
       start = slash + 1) {
    const std::string segment = name.substr(start, slash - start);
    if (::mkdirat(current->get(), segment.c_str(), 0755) != 0 && errno != EEXIST) {
      return fail_errno(errno, "mkdir(" + name.substr(0, slash) + ")");
    }
    current = open_beneath(current->get(), segment, O_RDONLY | O_DIRECTORY, RESOLVE_NO_SYMLINKS);
  }
  return current;
}

std::string leaf_of(const std::string& name) {
  const std::size_t slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

// The whole file's digest, taken from the page cache after its pieces were mended.
Result<void> verify_whole(int fd, std::uint64_t size, const Checksum& expected,
                          const std::string& shown, TransferLedger& ledger) {
  auto digest = secure::Digest::create(expected.algorithm);
  if (!digest) return std::unexpected(digest.error());
  if (auto r = secure::hash_file(*digest, fd, 0, size); !r) return r;
  ledger.bytes_hashed += size;
  auto found = digest->finish();
  if (!found) return std::unexpected(found.error());
  if (*found != expected.value) {
    return fail(Errc::corrupt, "verify " + shown,
                std::string(secure::digest_name(expected.algorithm)) + " mismatch: expected " +
                    secure::to_hex(expected.value) + " (" + expected.origin + "), found " +
                    secure::to_hex(*found));
  }
  return {};
}

// Renames NAME.unverified to NAME beneath `parent` (removing it when that fails, so nothing
// unverified is left looking like a download) and, when asked, syncs the directory.
Result<void> rename_verified(const SourcedFile& file, int parent, bool sync) {
  const std::string leaf = leaf_of(file.name);
  if (::renameat(parent, unverified_path(leaf).c_str(), parent, leaf.c_str()) != 0) {
    const int error = errno;
    (void)::unlinkat(parent, unverified_path(leaf).c_str(), 0);
    return fail_errno(error, "rename(" + unverified_path(file.name) + ", " + file.name + ")");
  }
  if (sync) {
    if (auto r = sys_call({"fsync", parent}, [&] { return ::fsync(parent); }); !r) {
      return std::unexpected(r.error());
    }
  }
  return {};
}

// What a download that landed in NAME.unverified still needs: its size, pieces and digest
// checked; then the rename to NAME. The unverified file is removed on any failure.
Result<void> settle(const SourcedFile& file, int parent, std::size_t writer,
                    const MetalinkOptions& options, DownloadResult& result) {
  const std::string leaf = leaf_of(file.name);
  const std::string temp = unverified_path(leaf);
  const std::string shown = unverified_path(file.name);
  auto checked = [&]() -> Result<void> {
    if (file.size && result.file_size != *file.size) {
      return fail(Errc::corrupt, "verify " + shown,
                  std::to_string(result.file_size) + " bytes, the Metalink says " +
                      std::to_string(*file.size));
    }
    if (!file.pieces) return {};
    auto fd = Fd::open_at(parent, temp, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (!fd) return std::unexpected(fd.error());
    auto note = detail::mend_pieces(fd->get(), shown, *file.pieces, result.file_size, file.urls,
                                    writer, options, result.ledger);
    if (!note) return std::unexpected(note.error());
    if (!note->empty()) result.note += (result.note.empty() ? "" : "; ") + *note;
    std::string verified = std::to_string(file.pieces->hashes.size()) + " " +
                           std::string(secure::digest_name(file.pieces->algorithm)) +
                           " pieces verified";
    if (file.checksum) {
      if (auto r = verify_whole(fd->get(), result.file_size, *file.checksum, shown, result.ledger);
          !r) {
        return r;
      }
      verified += ", " + std::string(secure::digest_name(file.checksum->algorithm)) + " verified";
    }
    result.verified = verified + " (metalink)";
    return {};
  }();
  if (!checked) {
    (void)::unlinkat(parent, temp.c_str(), 0);
    return checked;
  }
  return rename_verified(file, parent, options.download.sync);
}

}  // namespace

std::string unverified_path(const std::string& name) {
  return name + ".unverified";
}

std::vector<SourcedFile> sourced_files(const Metalink& metalink) {
  std::vector<SourcedFile> files;
  for (const MetalinkFile& file : metalink.files) {
    SourcedFile sourced{.name = file.name,
                        .urls = {},
                        .checksum = file.checksum(),
                        .size = file.size,
                        .pieces = file.pieces};
    for (const MetalinkUrl& url : file.urls) sourced.urls.push_back(url.url);
    files.push_back(std::move(sourced));
  }
  return files;
}

namespace {

// All URLs at once: pieces verified as they land, the whole file as it is finished.
Result<SourcesResult> from_all_sources(const SourcedFile& file, int parent,
                                       const MetalinkOptions& options) {
  SourcesOptions sources;
  sources.download = options.download;
  sources.download.beneath_fd = parent;
  sources.download.output = unverified_path(leaf_of(file.name));
  sources.download.metalink_document = nullptr;
  sources.download.checksum = file.checksum;
  // Hashes of every piece are the Metalink's word on the file; a mirror's Repr-Digest of its own
  // copy is not asked for as well.
  if (file.pieces) sources.download.verify_server_digest = false;
  sources.max_per_source = options.max_per_source;
  sources.follow_links = false;
  sources.pieces = file.pieces ? &*file.pieces : nullptr;
  sources.bad_piece_limit = options.bad_piece_limit;
  sources.size = file.size;
  auto result = download_from_sources(file.urls, sources);
  if (!result) return result;
  if (auto renamed = rename_verified(file, parent, options.download.sync); !renamed) {
    return std::unexpected(renamed.error());
  }
  std::string& verified = result->download.verified;
  if (!verified.empty() && verified.find("(metalink)") == std::string::npos) {
    verified += " (metalink)";
  }
  return result;
}

// One URL after another, each file whole, its pieces mended afterwards: for sources that
// offer no byte ranges.
Result<SourcesResult> one_source_at_a_time(const SourcedFile& file, int parent,
                                           const MetalinkOptions& options) {
  DownloadOptions fetch = options.download;
  fetch.beneath_fd = parent;
  fetch.output = unverified_path(leaf_of(file.name));
  fetch.metalink_document = nullptr;
  // With pieces a bad byte is mended rather than condemning the file, so the whole-file digest
  // is checked after the pieces; without, while the body lands.
  fetch.checksum = file.pieces ? std::nullopt : file.checksum;
  std::string failures;
  for (std::size_t i = 0; i < file.urls.size(); ++i) {
    auto result = download(file.urls[i], fetch);
    if (result) {
      if (auto r = settle(file, parent, i, options, *result); !r) {
        return std::unexpected(r.error());
      }
      SourcesResult sourced{.download = std::move(*result), .sources = {}};
      for (std::size_t u = 0; u < file.urls.size(); ++u) {
        sourced.sources.push_back({.url = file.urls[u].str(),
                                   .bytes = u == i ? sourced.download.file_size : 0,
                                   .bad_pieces = 0,
                                   .dropped = false,
                                   .reason = u < i ? "failed" : ""});
      }
      return sourced;
    }
    if (options.download.stop && options.download.stop->load(std::memory_order_relaxed)) {
      return std::unexpected(result.error());
    }
    if (file.urls.size() == 1) return std::unexpected(result.error());
    failures += (failures.empty() ? "" : "; ") + result.error().message();
  }
  return fail(Errc::rejected, "get " + file.name,
              "all " + std::to_string(file.urls.size()) + " URLs failed: " + failures);
}

}  // namespace

Result<SourcesResult> download_sourced(const SourcedFile& file, int directory,
                                       const MetalinkOptions& options) {
  auto parent = open_parent(directory, file.name);
  if (!parent) return std::unexpected(std::move(parent.error()).with_context(file.name));
  auto result = from_all_sources(file, parent->get(), options);
  // Refused before a byte was written (no source offers ranges, or an older .part of one
  // stream): the URLs one at a time.
  if (!result && result.error().code() == Errc::rejected) {
    return one_source_at_a_time(file, parent->get(), options);
  }
  return result;
}

Result<std::vector<MetalinkFileResult>> download_metalink(const Metalink& metalink,
                                                          const MetalinkOptions& options) {
  if (::mkdir(options.output_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return fail_errno(errno, "mkdir(" + options.output_dir + ")");
  }
  auto directory = Fd::open(options.output_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (!directory) return std::unexpected(directory.error());
  std::vector<MetalinkFileResult> results;
  for (const SourcedFile& file : sourced_files(metalink)) {
    if (options.download.stop && options.download.stop->load(std::memory_order_relaxed)) break;
    results.push_back({file.name, download_sourced(file, directory->get(), options)});
  }
  return results;
}

}  // namespace zc::http
