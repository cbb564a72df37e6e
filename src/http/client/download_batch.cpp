#include "zcopy/http/client/download_batch.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

namespace zc::http {

std::vector<Result<DownloadResult>> download_all(std::span<const DownloadJob> jobs,
                                                 unsigned parallel) {
  std::vector<std::optional<Result<DownloadResult>>> slots(jobs.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (;;) {
      // Relaxed is enough: each index is handed out once, and join() publishes the slots.
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= jobs.size()) return;
      slots[i].emplace(download(jobs[i].url, jobs[i].options));
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

}  // namespace zc::http
