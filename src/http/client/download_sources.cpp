// One file from several sources: probe and agree (source_probe.hpp), then pieces handed out by
// a PieceScheduler to max_per_source connections per source, each splicing its piece into the
// pre-sized .part at the piece's offset, the record (part_progress.hpp) kept as they land.
#include "zcopy/http/client/download_sources.hpp"

#include <unistd.h>

#include <algorithm>
#include <thread>

#include "download_body.hpp"
#include "download_steps.hpp"
#include "part_progress.hpp"
#include "piece_mender.hpp"
#include "piece_scheduler.hpp"
#include "source_probe.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::http {
namespace detail {
namespace {

constexpr std::uint64_t kDefaultPiece = 4 << 20;
constexpr std::uint64_t kMaxPieces = 1000;  // a record holds at most kMaxRecordRanges
constexpr auto kWatchInterval = std::chrono::milliseconds(50);

// Pieces of about `piece_size` bytes, each a whole multiple of `unit` (the hashed length).
std::vector<PartRange> pieces_of(std::uint64_t size, std::uint64_t piece_size,
                                 std::uint64_t unit = 1) {
  std::uint64_t piece = piece_size > 0 ? piece_size : kDefaultPiece;
  piece = std::max(piece, (size + kMaxPieces - 1) / kMaxPieces);
  piece = (piece + unit - 1) / unit * unit;
  std::vector<PartRange> ranges;
  for (std::uint64_t first = 0; first < size; first += piece) {
    ranges.push_back({.first = first, .last = std::min(size, first + piece) - 1, .done = 0});
  }
  return ranges;
}

// The ranges of a resumed record with what is missing cut into pieces, so that all sources share
// it even when one stream began it; the old ranges when that would make too many.
std::vector<PartRange> resplit(const std::vector<PartRange>& ranges, std::uint64_t piece_size) {
  std::vector<PartRange> out;
  for (const PartRange& r : ranges) {
    if (r.done > 0) out.push_back({.first = r.first, .last = r.first + r.done - 1, .done = r.done});
    if (r.done == r.length()) continue;
    const std::uint64_t from = r.first + r.done;
    for (PartRange piece : pieces_of(r.last - from + 1, piece_size)) {
      out.push_back({.first = from + piece.first, .last = from + piece.last, .done = 0});
    }
  }
  return out.size() <= kMaxRecordRanges ? out : ranges;
}

// Fresh pieces aligned to `unit`, those that `old` holds whole marked done: a resumed download
// with piece hashes then checks and fetches whole hashed pieces only.
std::vector<PartRange> realigned(const std::vector<PartRange>& old, std::uint64_t size,
                                 std::uint64_t piece_size, std::uint64_t unit) {
  std::vector<PartRange> out = pieces_of(size, piece_size, unit);
  for (PartRange& piece : out) {
    std::uint64_t held = 0;
    for (const PartRange& r : old) {
      if (r.done == 0) continue;
      const std::uint64_t from = std::max(piece.first, r.first);
      const std::uint64_t to = std::min(piece.last, r.first + r.done - 1);
      if (from <= to) held += to - from + 1;
    }
    if (held == piece.length()) piece.done = held;
  }
  return out;
}

struct Worker {
  std::size_t source = 0;
  TransferLedger ledger;
  CpuTime cpu;
};

// What the connections share.
struct Run {
  const DownloadOptions& options;
  net::ReceiveMethod method;
  const OutputPlace& place;
  int file;
  PartProgress& progress;
  PieceScheduler& scheduler;
  const std::vector<SourceProbe>& sources;
  std::vector<std::string>& failures;  // per source, the first error (guarded by `mutex`)
  std::mutex& mutex;
  const MetalinkPieces* pieces;  // hashes to check each piece against, if any
  std::uint64_t bad_found = 0;   // pieces that did not match (guarded by `mutex`)
  std::size_t last_bad = 0;      // the index of the last hashed piece that did not match (same)
};

// Fetches what is left of `piece` from the worker's source.
Result<void> fetch_piece(Run& run, std::size_t worker, Worker& self, std::size_t piece) {
  const SourceProbe& source = run.sources[self.source];
  const PartRange& range = run.progress.layout().ranges[piece];
  const std::uint64_t from = range.first + run.progress.done(piece);
  if (from > range.last) return {};
  const std::uint64_t size = *run.progress.layout().size;
  std::atomic<bool>& cancel = run.scheduler.cancel_flag(worker);
  RequestOptions request;
  request.range_from = from;
  request.range_to = range.last;
  request.if_range = if_range_for(source);
  request.timeout = run.options.timeout;
  request.stop = &cancel;
  request.tls = run.options.tls;
  auto response = send_request(source.final_url, request);
  if (!response) return std::unexpected(response.error());
  const ResponseHead& head = response->head;
  const std::string what = "GET " + source.final_url.str() + " bytes " + std::to_string(from) +
                           "-" + std::to_string(range.last) + "/" + std::to_string(size);
  if (head.status == 200) {
    return fail(Errc::corrupt, what,
                "answered with the whole file: it ignores Range, or the file changed there");
  }
  if (head.status != 206 || !head.content_range || head.content_range->first != from ||
      head.content_range->last != range.last || head.content_range->total != size) {
    return fail(Errc::corrupt, what,
                "HTTP " + std::to_string(head.status) + ", not the range asked for");
  }
  SourceProbe now;
  PartRecord answered;
  take_validators(head, answered);
  now.size = size;
  now.etag = answered.etag;
  now.last_modified = answered.last_modified;
  PartRecord expected;
  expected.size = size;
  expected.etag = source.etag;
  expected.last_modified = source.last_modified;
  if (const std::string why = disagreement(now, expected); !why.empty()) {
    return fail(Errc::corrupt, what, "the file changed there: " + why);
  }
  BodyTransfer transfer{
      .socket = response->socket.get(),
      .tls = response->tls.get(),
      .file = run.file,
      .offset = from,
      .length = range.last - from + 1,
      .chunked = false,
      .method = run.method,
      .timeout = run.options.timeout,
      .stop = &cancel,
      .progress = &run.scheduler.source_bytes(self.source),
      .part = &run.progress,
      .range = piece,
      .file_name = run.place.shown_part,
      .ledger = &self.ledger,
  };
  auto moved = receive_body(transfer);
  if (!moved) return std::unexpected(moved.error());
  if (response->tls) self.ledger.method = tls_method_name(response->tls->session());
  return {};
}

// Whether the whole of `piece` has landed and matches its hashes; with none, whether it landed.
Result<bool> piece_is_good(Run& run, Worker& self, std::size_t piece) {
  const PartRange& range = run.progress.layout().ranges[piece];
  if (run.pieces == nullptr || run.progress.done(piece) != range.length()) return true;
  auto bad = first_bad_piece(run.file, *run.pieces, *run.progress.layout().size, range.first,
                             range.last, self.ledger);
  if (!bad) return std::unexpected(bad.error());
  if (!*bad) return true;
  const std::lock_guard lock(run.mutex);
  ++run.bad_found;
  run.last_bad = **bad;
  return false;
}

void run_worker(Run& run, std::size_t worker, Worker& self) {
  const CpuStopwatch own(CpuStopwatch::Scope::thread);
  while (const auto piece = run.scheduler.next(worker)) {
    auto fetched = fetch_piece(run, worker, self, *piece);
    auto outcome = PieceScheduler::Outcome::complete;
    if (fetched) {
      auto good = piece_is_good(run, self, *piece);
      if (!good) {
        fetched = std::unexpected(good.error());
      } else if (!*good) {
        outcome = PieceScheduler::Outcome::bad;
      }
    }
    if (!fetched) {
      const bool stopped = run.options.stop && run.options.stop->load(std::memory_order_relaxed);
      if (stopped || run.scheduler.cancel_flag(worker).load(std::memory_order_relaxed)) {
        outcome = PieceScheduler::Outcome::taken;
      } else {
        outcome = PieceScheduler::Outcome::failed;
        const std::lock_guard lock(run.mutex);
        std::string& failure = run.failures[self.source];
        if (failure.empty()) failure = fetched.error().message();
      }
    }
    run.scheduler.finish(worker, *piece, outcome);
    if (outcome == PieceScheduler::Outcome::failed) break;
  }
  self.cpu = own.cpu();
}

// The probes of `urls` and of the first one's Link rel=duplicate mirrors, all in parallel.
std::vector<SourceProbe> probe_all(std::span<const Url> urls, const SourcesOptions& options) {
  std::vector<SourceProbe> probes(urls.size());
  auto probe_range = [&](std::size_t begin) {
    std::vector<std::jthread> threads;
    for (std::size_t i = begin; i < probes.size(); ++i) {
      threads.emplace_back([&, i] { probes[i] = probe_source(probes[i].url, options.download); });
    }
  };
  for (std::size_t i = 0; i < urls.size(); ++i) probes[i].url = urls[i];
  probe_range(0);
  if (options.follow_links && !probes.empty()) {
    const std::size_t given = probes.size();
    for (const Url& link : duplicate_links(probes[0].final_url, probes[0].links)) {
      const bool known = std::any_of(probes.begin(), probes.end(), [&](const SourceProbe& p) {
        return p.url.str() == link.str() || p.final_url.str() == link.str();
      });
      if (!known) probes.emplace_back().url = link;
    }
    probe_range(given);
  }
  return probes;
}

}  // namespace
}  // namespace detail

Result<SourcesResult> download_from_sources(std::span<const Url> urls,
                                            const SourcesOptions& options) {
  using namespace detail;
  const DownloadOptions& download = options.download;
  CpuStopwatch watch(CpuStopwatch::Scope::thread);
  if (urls.empty()) return fail(Errc::invalid_argument, "download", "no source given");
  if (download.output.empty()) {
    return fail(Errc::invalid_argument, "download " + urls[0].str(), "no output file name");
  }
  auto method = net::choose(download.method);
  if (!method) return std::unexpected(method.error());
  auto place = open_output_place(download);
  if (!place) return std::unexpected(place.error());
  auto plan = plan_resume(*place, download);
  if (!plan) return std::unexpected(plan.error());
  if (plan->forced || (plan->record && !plan->record->size)) {
    return fail(Errc::rejected, "resume " + place->shown_part,
                "a download from several sources resumes only a .part with a record of its size");
  }

  std::vector<SourceProbe> probes = probe_all(urls, options);
  SourcesResult result;
  // The file every source must agree on: the record's when resuming, else the first usable one's.
  std::optional<PartRecord> reference = plan->record;
  std::size_t first_usable = probes.size();
  for (std::size_t i = 0; i < probes.size(); ++i) {
    SourceProbe& probe = probes[i];
    if (probe.problem.empty() && options.size && probe.size != *options.size) {
      probe.problem = "a different file: " + std::to_string(probe.size) + " bytes where " +
                      std::to_string(*options.size) + " are expected";
    }
    if (probe.problem.empty() && !reference) {
      reference.emplace();
      reference->url = probe.final_url.str();
      reference->size = probe.size;
      reference->etag = probe.etag;
      reference->last_modified = probe.last_modified;
    } else if (probe.problem.empty()) {
      if (const std::string why = disagreement(probe, *reference); !why.empty()) {
        probe.problem = "a different file: " + why;
      }
    }
    if (probe.problem.empty() && first_usable == probes.size()) first_usable = i;
    SourceReport& report = result.sources.emplace_back();
    report.url = probe.url.str();
    report.dropped = !probe.problem.empty();
    report.reason = probe.problem;
    if (i >= urls.size() && !report.dropped) report.reason = "from a Link field";
  }
  if (first_usable == probes.size()) {
    std::string why;
    for (const SourceReport& s : result.sources)
      why += (why.empty() ? "" : "; ") + s.url + ": " + s.reason;
    return fail(Errc::rejected, "download " + download.output, "no usable source (" + why + ")");
  }

  const std::uint64_t size = *reference->size;
  // With hashes, a piece is one hashed length unless asked otherwise.
  const std::uint64_t piece_size =
      options.piece_size == 0 && options.pieces ? options.pieces->length : options.piece_size;
  PartRecord record = *reference;
  const bool resuming = plan->record.has_value();
  if (resuming) {
    // A piece keeps only what the .part still holds.
    for (PartRange& r : record.ranges) {
      const std::uint64_t held = plan->part_size > r.first ? plan->part_size - r.first : 0;
      r.done = std::min(r.done, held);
    }
    record.ranges = options.pieces != nullptr
                        ? realigned(record.ranges, size, piece_size, options.pieces->length)
                        : resplit(record.ranges, options.piece_size);
  } else {
    record.ranges = pieces_of(size, piece_size, options.pieces ? options.pieces->length : 1);
  }
  const int dir = place->directory.get();
  if (!resuming) remove_part_record(dir, place->record);
  auto file = open_part(*place, !resuming);
  if (!file) return std::unexpected(file.error());
  if (auto r = sys_call({"ftruncate", file->get()},
                        [&] { return ::ftruncate(file->get(), static_cast<off_t>(size)); });
      !r) {
    return std::unexpected(std::move(r.error()).with_context(place->shown_part));
  }
  // What a resumed .part holds is checked before it counts as done.
  TransferLedger checking;
  for (PartRange& r : record.ranges) {
    if (options.pieces == nullptr || r.done != r.length()) continue;
    auto bad = first_bad_piece(file->get(), *options.pieces, size, r.first, r.last, checking);
    if (!bad) return std::unexpected(bad.error());
    if (*bad) r.done = 0;
  }
  if (auto r = store_part_record(dir, place->record, record, download.sync); !r) {
    return std::unexpected(r.error());
  }
  const std::uint64_t resumed = record.bytes_done();
  if (download.progress) {
    download.progress->bytes_expected.fetch_add(size, std::memory_order_relaxed);
    download.progress->bytes_done.fetch_add(resumed, std::memory_order_relaxed);
  }

  PartProgress progress(dir, place->record, file->get(), record, download.sync);
  std::vector<std::size_t> worker_source;
  for (std::size_t s = 0; s < probes.size(); ++s) {
    if (!probes[s].problem.empty()) continue;
    for (unsigned c = 0; c < std::max(1u, options.max_per_source); ++c) worker_source.push_back(s);
  }
  PieceScheduler scheduler(progress, worker_source, probes.size(),
                           options.pieces ? options.bad_piece_limit : 0);
  std::vector<Worker> workers(worker_source.size());
  std::vector<std::string> failures(probes.size());
  std::mutex failures_mutex;
  Run run{.options = download,
          .method = method->method,
          .place = *place,
          .file = file->get(),
          .progress = progress,
          .scheduler = scheduler,
          .sources = probes,
          .failures = failures,
          .mutex = failures_mutex,
          .pieces = options.pieces};
  {
    std::atomic<std::size_t> running{workers.size()};
    std::vector<std::jthread> threads;
    for (std::size_t w = 0; w < workers.size(); ++w) {
      workers[w].source = worker_source[w];
      threads.emplace_back([&, w] {
        run_worker(run, w, workers[w]);
        running.fetch_sub(1, std::memory_order_release);
      });
    }
    // The watch passes a stop request on and keeps the shared counters current.
    std::uint64_t shown = 0;
    auto publish = [&] {
      std::uint64_t total = 0;
      for (std::size_t s = 0; s < probes.size(); ++s) {
        const std::uint64_t bytes = scheduler.source_bytes(s).load(std::memory_order_relaxed);
        total += bytes;
        if (s < options.source_bytes.size()) {
          options.source_bytes[s].store(bytes, std::memory_order_relaxed);
        }
      }
      if (download.progress) {
        download.progress->bytes_done.fetch_add(total - shown, std::memory_order_relaxed);
      }
      shown = total;
    };
    while (running.load(std::memory_order_acquire) > 0) {
      if (download.stop && download.stop->load(std::memory_order_relaxed)) scheduler.stop();
      publish();
      std::this_thread::sleep_for(kWatchInterval);
    }
    publish();
  }
  auto saved = progress.save();  // whatever arrived can be resumed
  for (std::size_t s = 0; s < probes.size(); ++s) {
    SourceReport& report = result.sources[s];
    report.bytes = scheduler.source_bytes(s).load(std::memory_order_relaxed);
    report.bad_pieces = scheduler.bad_pieces(s);
    if (!failures[s].empty()) {
      report.dropped = true;
      report.reason = failures[s];
    } else if (scheduler.dropped_as_bad(s)) {
      report.dropped = true;
      report.reason = std::to_string(report.bad_pieces) + " pieces did not match their " +
                      std::string(secure::digest_name(options.pieces->algorithm));
    }
  }
  // "URL: 1 bad; URL: 0 bad": who sent the pieces that did not match.
  std::string tally;
  for (const SourceReport& s : result.sources) {
    tally += (tally.empty() ? "" : "; ") + s.url + ": " + std::to_string(s.bad_pieces) + " bad";
  }
  if (download.stop && download.stop->load(std::memory_order_relaxed)) {
    return std::unexpected(interrupted(*place));
  }
  if (!scheduler.all_done() && run.bad_found > 0) {
    const MetalinkPieces& pieces = *options.pieces;
    const std::uint64_t offset = run.last_bad * pieces.length;
    const std::uint64_t last = std::min(size, offset + pieces.length) - 1;
    return fail(Errc::corrupt, "verify " + place->shown_part,
                "piece " + std::to_string(run.last_bad) + " (bytes " + std::to_string(offset) +
                    "-" + std::to_string(last) + ") matches its " +
                    std::string(secure::digest_name(pieces.algorithm)) + " from no source (" +
                    tally + "); the partial download is kept for --continue");
  }
  if (!scheduler.all_done()) {
    std::string why;
    for (const SourceReport& s : result.sources) {
      if (s.dropped) why += (why.empty() ? "" : "; ") + s.url + ": " + s.reason;
    }
    return fail(Errc::closed, "download " + download.output,
                "every source failed before the file was complete (" + why +
                    "); the partial download is kept for --continue");
  }
  if (!saved) return std::unexpected(saved.error());

  DownloadResult& done = result.download;
  std::string digest_note;
  const DownloadOptions checked = with_checksum(download, probes[first_usable].head, digest_note);
  const Stamp stamp{.verified = record.has_validator() || !resuming,
                    .validator = origin_of(record)};
  if (auto r = finish_part(std::move(*file), *place, checked, size, stamp, nullptr, done); !r) {
    return std::unexpected(r.error());
  }
  done.file_size = size;
  done.resumed_from = resumed;
  done.final_url = probes[first_usable].final_url;
  done.origin_verified = stamp.verified;
  done.note = method->note;
  if (options.pieces != nullptr) {
    const std::string algorithm(secure::digest_name(options.pieces->algorithm));
    if (run.bad_found > 0) {
      digest_note += (digest_note.empty() ? "" : "; ") + std::to_string(run.bad_found) + " bad " +
                     algorithm + " piece(s) fetched again (" + tally + ")";
    }
    done.verified = std::to_string(options.pieces->hashes.size()) + " " + algorithm +
                    " pieces verified" + (done.verified.empty() ? "" : ", " + done.verified);
  }
  for (const std::string& note : {plan->note, digest_note}) {
    if (!note.empty()) done.note += (done.note.empty() ? "" : "; ") + note;
  }
  std::string moved_by(to_string(method->method));
  for (const Worker& w : workers) {
    if (!w.ledger.method.empty()) moved_by = w.ledger.method;  // https: the TLS path
  }
  std::size_t used = 0;
  for (const SourceReport& s : result.sources) used += s.bytes > 0 ? 1 : 0;
  done.ledger.method = moved_by + " from " + std::to_string(used) + " sources";
  watch.stop_into(done.ledger);
  for (const Worker& w : workers) {
    done.ledger.cpu_user_s += w.cpu.user_s;
    done.ledger.cpu_system_s += w.cpu.system_s;
    done.ledger.merge(w.ledger);
  }
  done.ledger.merge(checking);
  return result;
}

}  // namespace zc::http
