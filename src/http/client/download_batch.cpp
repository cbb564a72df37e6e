#include "zcopy/http/client/download_batch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "zcopy/core/syscall.hpp"
#include "zcopy/http/client/part_record.hpp"

namespace zc::http {
namespace {

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The local name for `url`: its last path segment, which must be a plain file name.
Result<std::string> local_name(const Url& url) {
  std::string name = url.file_name();
  if (name.empty()) name = "index.html";
  if (name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    return fail(Errc::invalid_argument, "get " + url.str(),
                "cannot name a local file after the URL; use -o FILE");
  }
  return name;
}

// The paths a download to `output` writes: the file, its .part and the .part's record.
std::vector<std::filesystem::path> claimed_paths(const std::string& output) {
  std::vector<std::filesystem::path> paths;
  for (const std::string& p :
       {output, part_path(output), record_path(output), record_path(output) + ".new"}) {
    paths.push_back(std::filesystem::absolute(p).lexically_normal());
  }
  return paths;
}

}  // namespace

Result<std::vector<DownloadJob>> plan_downloads(std::span<const Url> urls,
                                                const DownloadOptions& base,
                                                const std::string& output) {
  // One URL: `output` names the file. Several: `output` names a directory (default: here).
  const bool into_directory = urls.size() > 1 || (!output.empty() && is_directory(output));
  std::vector<DownloadJob> jobs;
  for (const Url& url : urls) {
    DownloadJob job{url, base};
    if (!into_directory && !output.empty()) {
      job.options.output = output;
    } else {
      auto name = local_name(url);
      if (!name) return std::unexpected(name.error());
      job.options.output = (std::filesystem::path(output.empty() ? "." : output) / *name).string();
    }
    const auto claimed = claimed_paths(job.options.output);
    for (const DownloadJob& earlier : jobs) {
      // Two downloads sharing a file, a .part or a record would interleave their bytes.
      const auto other = claimed_paths(earlier.options.output);
      const bool clash = std::ranges::any_of(
          claimed, [&](const auto& p) { return std::ranges::find(other, p) != other.end(); });
      if (clash) {
        return fail(Errc::invalid_argument, "get " + url.str(),
                    "it and " + earlier.url.str() + " would both write " + job.options.output +
                        " or its .part; name the files apart (one URL per -o FILE)");
      }
    }
    jobs.push_back(std::move(job));
  }
  return jobs;
}

std::vector<Result<DownloadResult>> download_all(std::span<const DownloadJob> jobs,
                                                 unsigned parallel, BatchConnections* connections) {
  std::vector<std::optional<Result<DownloadResult>>> slots(jobs.size());
  std::atomic<std::size_t> next{0};
  std::mutex counts_mutex;  // guards *connections while workers finish
  auto worker = [&] {
    ConnectionPool pool;  // this worker's own: a pool is not shared between threads
    for (;;) {
      // Relaxed is enough: each index is handed out once, and join() publishes the slots.
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= jobs.size()) break;
      DownloadOptions options = jobs[i].options;
      if (options.pool == nullptr) options.pool = &pool;
      slots[i].emplace(download(jobs[i].url, options));
    }
    if (connections != nullptr) {
      const std::scoped_lock lock(counts_mutex);
      connections->opened += pool.opened();
      connections->reused += pool.reused();
    }
  };
  const std::size_t threads =
      std::clamp<std::size_t>(parallel, 1, std::max<std::size_t>(1, jobs.size()));
  if (threads == 1) {
    worker();
  } else {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) workers.emplace_back(worker);
  }
  std::vector<Result<DownloadResult>> results;
  results.reserve(jobs.size());
  for (auto& slot : slots) results.push_back(std::move(*slot));
  return results;
}

Result<void> sync_file_system(int fd, const std::string& shown) {
  if (auto r = sys_call({"syncfs", fd}, [&] { return ::syncfs(fd); }); !r) {
    return std::unexpected(std::move(r.error()).with_context("make " + shown + " durable"));
  }
  return {};
}

Result<std::size_t> sync_file_systems(std::span<const DownloadJob> jobs) {
  std::set<std::string> directories;
  for (const DownloadJob& job : jobs) {
    const std::string& output = job.options.output;
    const std::size_t slash = output.rfind('/');
    directories.insert(slash == std::string::npos ? "."
                       : slash == 0               ? "/"
                                                  : output.substr(0, slash));
  }
  std::set<dev_t> synced;
  for (const std::string& directory : directories) {
    auto fd = Fd::open(directory, O_RDONLY | O_DIRECTORY);
    if (!fd) return std::unexpected(fd.error());
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return fail_errno(errno, "fstat(" + directory + ")");
    if (!synced.insert(st.st_dev).second) continue;
    if (auto r = sync_file_system(fd->get(), directory); !r) return std::unexpected(r.error());
  }
  return synced.size();
}

}  // namespace zc::http
