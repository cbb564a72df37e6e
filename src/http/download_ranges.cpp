// --parallel-ranges K: one body split over K connections, each splicing into its own part of the
// file. A HEAD request learns the size; a server that does not offer byte ranges, or a file too
// small to be worth splitting, gets a single stream instead.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "download_body.hpp"
#include "download_steps.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::http::detail {
namespace {

// Below this a range is not worth its own connection.
constexpr std::uint64_t kMinRangeBytes = 1 << 20;

struct RangeSlot {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::atomic<std::uint64_t> written{0};
  std::optional<Error> error;
  DownloadMethod method_used = DownloadMethod::splice;
};

Result<void> fetch_range(const Url& url, const DownloadOptions& options, DownloadMethod method,
                         int file, const std::string& part, RangeSlot& slot) {
  RequestOptions request;
  request.range_from = slot.first;
  request.range_to = slot.last;
  request.timeout = options.timeout;
  auto response = send_request(url, request);
  if (!response) return std::unexpected(response.error());
  const ResponseHead& head = response->head;
  if (head.status != 206 || !head.content_range || head.content_range->first != slot.first ||
      head.content_range->last != slot.last) {
    return fail(Errc::corrupt,
                "GET " + url.str() + " bytes " + std::to_string(slot.first) + "-" +
                    std::to_string(slot.last),
                "HTTP " + std::to_string(head.status) + " without the range asked for");
  }
  BodyTransfer transfer{
      .socket = response->socket.get(),
      .file = file,
      .offset = slot.first,
      .length = slot.last - slot.first + 1,
      .chunked = false,
      .method = method,
      .timeout = options.timeout,
      .progress = options.progress ? &options.progress->bytes_done : nullptr,
      .range_progress = &slot.written,
      .file_name = part,
  };
  auto moved = receive_body(transfer);
  if (!moved) return std::unexpected(moved.error());
  return {};
}

}  // namespace

Result<DownloadResult> download_ranges(const Url& url, const DownloadOptions& options,
                                       DownloadMethod method) {
  net::CpuStopwatch watch;
  RequestOptions head_request;
  head_request.method = "HEAD";
  head_request.timeout = options.timeout;
  auto probed = fetch_following(url, options, head_request);
  if (!probed) return std::unexpected(probed.error());
  const ResponseHead& head = probed->response.head;
  if (head.status != 200) return http_status_error(*probed);
  const std::string* accept_ranges = head.header("Accept-Ranges");
  const bool ranges_offered = accept_ranges != nullptr && *accept_ranges == "bytes";
  const std::uint64_t size = head.content_length.value_or(0);
  const std::uint64_t useful = std::max<std::uint64_t>(1, size / kMinRangeBytes);
  const auto count =
      static_cast<unsigned>(std::min<std::uint64_t>(options.parallel_ranges, useful));
  if (!head.content_length || !ranges_offered || count < 2) {
    DownloadOptions single = options;
    single.parallel_ranges = 1;
    single.resume = false;
    auto result = download(probed->url, single);
    if (result) {
      result->note = !ranges_offered ? "the server offers no byte ranges; one stream"
                                     : "too small to split; one stream";
    }
    return result;
  }

  const std::string part = part_path(options.output);
  auto file = open_part(part, true);
  if (!file) return std::unexpected(file.error());
  // Every range writes at its own offset; the file has its full size from the start.
  if (auto r = sys_call({"ftruncate", file->get()},
                        [&] { return ::ftruncate(file->get(), static_cast<off_t>(size)); });
      !r) {
    return std::unexpected(std::move(r.error()).with_context(part));
  }
  if (options.progress) {
    options.progress->bytes_expected.fetch_add(size, std::memory_order_relaxed);
  }
  std::vector<RangeSlot> slots(count);
  for (unsigned i = 0; i < count; ++i) {
    slots[i].first = size * i / count;
    slots[i].last = size * (i + 1) / count - 1;
  }
  {
    std::vector<std::jthread> workers;
    for (RangeSlot& slot : slots) {
      workers.emplace_back([&, fd = file->get()] {
        auto r = fetch_range(probed->url, options, method, fd, part, slot);
        if (!r) slot.error = r.error();
      });
    }
  }
  for (RangeSlot& slot : slots) {
    if (!slot.error) continue;
    // Keep only the bytes that arrived in one piece from the start, so that --continue (one
    // stream, from the .part's size) never trusts a hole.
    std::uint64_t prefix = 0;
    for (const RangeSlot& s : slots) {
      prefix += s.written.load(std::memory_order_relaxed);
      if (s.error || s.written.load(std::memory_order_relaxed) != s.last - s.first + 1) break;
    }
    (void)::ftruncate(file->get(), static_cast<off_t>(prefix));
    return std::unexpected(std::move(*slot.error));
  }
  if (auto r = finish_part(std::move(*file), part, options, size); !r) {
    return std::unexpected(r.error());
  }
  DownloadResult result;
  result.file_size = size;
  result.final_url = probed->url;
  result.ledger.method = std::string(to_string(method)) + " x" + std::to_string(count);
  account(result.ledger, method, false, size);
  watch.stop_into(result.ledger);
  return result;
}

}  // namespace zc::http::detail
