// --parallel-ranges K: one body split over K connections, each splicing into its own part of the
// file. A HEAD request learns the size and the validator; a server that does not offer byte
// ranges, or a file too small to be worth splitting, gets a single stream instead. The .part has
// its full size from the start, so only the record (part_progress.hpp) says which bytes arrived;
// --continue resumes every range from its own offset, after checking that the file is still the
// one the record describes.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <thread>
#include <vector>

#include "download_body.hpp"
#include "download_steps.hpp"
#include "part_progress.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::http::detail {
namespace {

// Below this a range is not worth its own connection.
constexpr std::uint64_t kMinRangeBytes = 1 << 20;

struct RangeSlot {
  std::optional<Error> error;
  CpuTime cpu;            // this range's thread
  TransferLedger ledger;  // what its body moved and copied
};

Result<void> fetch_range(const Url& url, const DownloadOptions& options, net::ReceiveMethod method,
                         const OutputPlace& place, int file, PartProgress& progress,
                         std::size_t index, TransferLedger& ledger) {
  const PartRange& range = progress.layout().ranges[index];
  const std::uint64_t from = range.first + progress.done(index);
  const std::uint64_t size = *progress.layout().size;
  RequestOptions request;
  request.range_from = from;
  request.range_to = range.last;
  request.if_range = progress.layout().if_range();
  request.timeout = options.timeout;
  request.stop = options.stop;
  request.tls = options.tls;
  auto response = send_request(url, request);
  if (!response) return std::unexpected(response.error());
  const ResponseHead& head = response->head;
  const std::string what = "GET " + url.str() + " bytes " + std::to_string(from) + "-" +
                           std::to_string(range.last) + "/" + std::to_string(size);
  if (head.status == 200) {
    return fail(Errc::corrupt, what,
                "the server sent the whole file instead of the range: the file changed on the "
                "server; run again with --continue to start over");
  }
  if (head.status != 206 || !head.content_range || head.content_range->first != from ||
      head.content_range->last != range.last || head.content_range->total != size) {
    std::string got = "HTTP " + std::to_string(head.status);
    if (head.content_range) {
      got += " bytes " + std::to_string(head.content_range->first) + "-" +
             std::to_string(head.content_range->last) + "/" +
             (head.content_range->total ? std::to_string(*head.content_range->total) : "*");
    }
    return fail(Errc::corrupt, what, "got " + got + ", not the range asked for");
  }
  if (const std::string why = validator_mismatch(head, progress.layout()); !why.empty()) {
    return fail(Errc::corrupt, what, "answered with " + why);
  }
  BodyTransfer transfer{
      .socket = response->socket.get(),
      .tls = response->tls.get(),
      .file = file,
      .offset = from,
      .length = range.last - from + 1,
      .chunked = false,
      .method = method,
      .timeout = options.timeout,
      .stop = options.stop,
      .progress = options.progress ? &options.progress->bytes_done : nullptr,
      .part = &progress,
      .range = index,
      .file_name = place.shown_part,
      .ledger = &ledger,
  };
  auto moved = receive_body(transfer);
  if (!moved) return std::unexpected(moved.error());
  if (response->tls) ledger.method = tls_method_name(response->tls->session());
  return {};
}

// The ranges of a new ranged download of `size` bytes over `count` connections.
std::vector<PartRange> split(std::uint64_t size, unsigned count) {
  std::vector<PartRange> ranges(count);
  for (unsigned i = 0; i < count; ++i) {
    ranges[i].first = size * i / count;
    ranges[i].last = size * (i + 1) / count - 1;
  }
  return ranges;
}

}  // namespace

Result<DownloadResult> download_ranges(const Url& url, const DownloadOptions& options,
                                       net::ReceiveMethod method, const OutputPlace& place,
                                       const ResumePlan& plan) {
  CpuStopwatch watch(CpuStopwatch::Scope::thread);
  RequestOptions head_request;
  head_request.method = "HEAD";
  auto probed = fetch_following(url, options, head_request);
  if (!probed) return std::unexpected(probed.error());
  const ResponseHead& head = probed->response.head;
  if (head.status != 200) return http_status_error(*probed);
  const std::string* accept_ranges = head.header("Accept-Ranges");
  const bool ranges_offered = accept_ranges != nullptr && *accept_ranges == "bytes";
  const std::uint64_t size = head.content_length.value_or(0);

  std::string note;
  std::optional<PartRecord> record = plan.record;
  bool resuming = record.has_value();
  if (record) {
    // Go on only with the very file the record describes.
    std::string why = validator_mismatch(head, *record);
    if (why.empty() && head.content_length != record->size) {
      why = "size " + (head.content_length ? std::to_string(size) : std::string("unknown")) +
            ", the partial download has " + std::to_string(record->size.value_or(0));
    }
    if (why.empty() && !ranges_offered) why = "no byte ranges offered any more";
    if (!why.empty()) {
      note = "the file changed on the server (" + why + "); starting over";
      record.reset();
      resuming = false;
    } else if (!record->has_validator()) {
      note = "resumed " + std::to_string(record->bytes_done()) +
             " bytes by size alone: the server sends no ETag or Last-Modified, so the origin "
             "could not be verified";
    }
  }
  if (!record) {
    const std::uint64_t useful = std::max<std::uint64_t>(1, size / kMinRangeBytes);
    const auto count =
        static_cast<unsigned>(std::min<std::uint64_t>(options.parallel_ranges, useful));
    if (!head.content_length || !ranges_offered || count < 2) {
      DownloadOptions single = options;
      single.parallel_ranges = 1;
      auto result = download_stream(probed->url, single, method, place, ResumePlan{});
      if (result) {
        result->note = !note.empty()     ? note
                       : !ranges_offered ? "the server offers no byte ranges; one stream"
                                         : "too small to split; one stream";
      }
      return result;
    }
    record.emplace();
    record->url = probed->url.str();
    record->size = size;
    take_validators(head, *record);
    record->ranges = split(size, count);
  }

  const int dir = place.directory.get();
  if (!resuming) remove_part_record(dir, place.record);
  auto file = open_part(place, !resuming);
  if (!file) return std::unexpected(file.error());
  if (resuming) {
    // A range keeps only what the .part still holds.
    for (PartRange& r : record->ranges) {
      const std::uint64_t held = plan.part_size > r.first ? plan.part_size - r.first : 0;
      r.done = std::min(r.done, held);
    }
  }
  // Every range writes at its own offset; the file has its full size from the start.
  if (auto r = sys_call({"ftruncate", file->get()},
                        [&] { return ::ftruncate(file->get(), static_cast<off_t>(size)); });
      !r) {
    return std::unexpected(std::move(r.error()).with_context(place.shown_part));
  }
  if (auto r = store_part_record(dir, place.record, *record, options.sync); !r) {
    return std::unexpected(r.error());
  }
  const std::uint64_t resumed = record->bytes_done();
  if (options.progress) {
    options.progress->bytes_expected.fetch_add(size, std::memory_order_relaxed);
    options.progress->bytes_done.fetch_add(resumed, std::memory_order_relaxed);
  }
  PartProgress progress(dir, place.record, file->get(), *record, options.sync);
  const std::size_t count = record->ranges.size();
  std::vector<RangeSlot> slots(count);
  {
    std::vector<std::jthread> workers;
    for (std::size_t i = 0; i < count; ++i) {
      if (record->ranges[i].done == record->ranges[i].length()) continue;
      workers.emplace_back([&, i, fd = file->get()] {
        const CpuStopwatch own(CpuStopwatch::Scope::thread);
        auto r = fetch_range(probed->url, options, method, place, fd, progress, i, slots[i].ledger);
        if (!r) slots[i].error = r.error();
        slots[i].cpu = own.cpu();
      });
    }
  }
  // Whatever arrived can be resumed, whether the ranges all ended or not.
  auto saved = progress.save();
  for (RangeSlot& slot : slots) {
    if (!slot.error) continue;
    if (options.stop && options.stop->load(std::memory_order_relaxed)) {
      return std::unexpected(interrupted(place));
    }
    return std::unexpected(std::move(*slot.error));
  }
  if (!saved) return std::unexpected(saved.error());
  const Stamp stamp{.verified = record->has_validator() || !resuming,
                    .validator = origin_of(*record)};
  DownloadResult result;
  std::string digest_note;
  const DownloadOptions checked = with_checksum(options, head, digest_note);
  if (auto r = finish_part(std::move(*file), place, checked, size, stamp, nullptr, result); !r) {
    return std::unexpected(r.error());
  }
  result.file_size = size;
  result.resumed_from = resumed;
  result.final_url = probed->url;
  result.origin_verified = stamp.verified;
  result.note = note.empty() ? digest_note : digest_note.empty() ? note : note + "; " + digest_note;
  std::string moved_by(to_string(method));
  for (const RangeSlot& slot : slots) {
    if (!slot.ledger.method.empty()) moved_by = slot.ledger.method;  // https: the TLS path
  }
  result.ledger.method = moved_by + " x" + std::to_string(count);
  watch.stop_into(result.ledger);
  // Each range's thread counts its own CPU time: the file's figure is theirs plus this one's.
  for (const RangeSlot& slot : slots) {
    result.ledger.cpu_user_s += slot.cpu.user_s;
    result.ledger.cpu_system_s += slot.cpu.system_s;
    result.ledger.merge(slot.ledger);  // its bytes: the ledger holds no time
  }
  return result;
}

}  // namespace zc::http::detail
