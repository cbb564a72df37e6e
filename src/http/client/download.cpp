#include "zcopy/http/client/download.hpp"

#include <unistd.h>

#include "download_body.hpp"
#include "download_steps.hpp"
#include "file_hasher.hpp"
#include "memory_body.hpp"
#include "part_progress.hpp"
#include "zcopy/http/client/metalink.hpp"

namespace zc::http {
namespace detail {
namespace {

void add_note(std::string& notes, const std::string& note) {
  if (!note.empty()) notes += notes.empty() ? note : "; " + note;
}

// The record of a whole body that starts now: its size, validators and one range.
PartRecord fresh_record(const Url& url, const ResponseHead& head,
                        std::optional<std::uint64_t> size) {
  PartRecord record;
  record.url = url.str();
  record.size = size;
  take_validators(head, record);
  if (size && *size > 0) record.ranges.push_back({.first = 0, .last = *size - 1, .done = 0});
  return record;
}

std::string unverified_note(const ResumePlan& plan, std::uint64_t offset) {
  if (plan.forced) {
    return "resumed at byte " + std::to_string(offset) +
           " of a .part without a record (--continue=force): the origin could not be verified";
  }
  return "resumed at byte " + std::to_string(offset) +
         " by size alone: the server sends no ETag or Last-Modified, so the origin could not be "
         "verified";
}

}  // namespace

Result<DownloadResult> download_stream(const Url& url, const DownloadOptions& options,
                                       net::ReceiveMethod method, const OutputPlace& place,
                                       const ResumePlan& plan) {
  CpuStopwatch watch(CpuStopwatch::Scope::thread);
  DownloadResult result;
  std::uint64_t offset = 0;
  if (plan.record && plan.record->ranges.size() == 1) {
    offset = std::min(plan.record->ranges[0].done, plan.part_size);
  } else if (plan.forced) {
    offset = plan.part_size;
  }
  RequestOptions request;
  if (offset > 0) {
    request.range_from = offset;
    if (plan.record) request.if_range = plan.record->if_range();
  }
  request.if_none_match = options.if_none_match;
  request.pool = options.pool;
  auto fetched = fetch_following(url, options, request);
  if (!fetched) return std::unexpected(fetched.error());
  result.final_url = fetched->url;
  const ResponseHead& head = fetched->response.head;
  const std::string what = "GET " + fetched->url.str();

  PartRecord record;
  bool already_complete = false;
  if (head.status == 304 && !options.if_none_match.empty()) {
    result.not_modified = true;
    result.note = "not modified";
    if (options.pool) return_connection(std::move(fetched->response), fetched->url, *options.pool);
    return result;
  }
  if (offset > 0 && (head.status == 206 || head.status == 416)) {
    // The .part goes on: everything the server says must fit what the record knows.
    std::optional<std::uint64_t> expected;
    if (plan.record) expected = plan.record->size;
    if (head.status == 206) {
      const ContentRange& range = *head.content_range;
      const std::uint64_t total = range.total.value_or(0);
      if (!range.total || range.first != offset || range.last + 1 != total ||
          (expected && total != *expected)) {
        return fail(Errc::corrupt, what,
                    "asked for bytes " + std::to_string(offset) + "- of " +
                        (expected ? std::to_string(*expected) : std::string("?")) + ", got bytes " +
                        std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
                        (range.total ? std::to_string(*range.total) : std::string("*")));
      }
    } else if (!head.range_total || *head.range_total != offset ||
               (expected && *expected != offset)) {
      return fail(Errc::corrupt, what,
                  "HTTP 416: the server has " +
                      (head.range_total ? std::to_string(*head.range_total) : std::string("?")) +
                      " bytes, the partial download " + std::to_string(offset) + "; remove " +
                      place.shown_part + " to start over");
    } else {
      already_complete = true;  // the .part holds the whole file; it only missed its rename
    }
    if (plan.record) {
      record = *plan.record;
      if (const std::string why = validator_mismatch(head, record); !why.empty()) {
        return fail(Errc::corrupt, what, "answered a resume with " + why);
      }
    } else {
      const std::uint64_t total = head.status == 206 ? *head.content_range->total : offset;
      record = fresh_record(fetched->url, head, total);
    }
    record.ranges[0].done = offset;
    result.origin_verified = plan.record && plan.record->has_validator();
    if (!result.origin_verified) add_note(result.note, unverified_note(plan, offset));
  } else if (head.status == 200) {
    if (offset > 0) {
      add_note(result.note,
               "the server sent the whole file (it ignored the Range request, or the file "
               "changed); starting over");
    }
    offset = 0;
    if (options.metalink_document != nullptr) {
      const std::string* type = head.header("Content-Type");
      if (type != nullptr && is_metalink_media_type(*type)) {
        auto document = read_body_in_memory(fetched->response, kMaxMetalinkBytes, options.timeout,
                                            options.stop, what);
        if (!document) return std::unexpected(document.error());
        *options.metalink_document = std::move(*document);
        result.metalink = true;
        return result;
      }
    }
    record = fresh_record(fetched->url, head, head.chunked ? std::nullopt : head.content_length);
  } else {
    return http_status_error(*fetched);
  }

  std::string digest_note;
  const DownloadOptions checked = with_checksum(options, head, digest_note);
  add_note(result.note, digest_note);
  const int dir = place.directory.get();
  if (offset == 0 && options.resumable) remove_part_record(dir, place.record);
  auto file = open_part(place, offset == 0);
  if (!file) return std::unexpected(file.error());
  // The record exists before the first byte does, so even a SIGKILL leaves a .part to resume.
  if (offset == 0 && options.resumable) {
    if (auto r = store_part_record(dir, place.record, record, options.sync); !r) {
      return std::unexpected(r.error());
    }
  }
  result.resumed_from = offset;
  const std::uint64_t size = record.size.value_or(0);
  std::uint64_t received = 0;
  // The body lands front to back, so its digest can be taken while the rest is on the wire.
  std::optional<FileHasher> hasher;
  if (checked.checksum) {
    auto created = FileHasher::create(checked.checksum->algorithm, file->get(), offset);
    if (!created) return std::unexpected(created.error());
    hasher.emplace(std::move(*created));
  }
  // Read now: the connection may go back to its pool once the body is in.
  std::string tls_method;
  std::string tls_note;
  if (const TlsStream* tls = fetched->response.tls.get()) {
    tls_method = tls_method_name(tls->session());
    tls_note = tls->session().describe();
  }
  if (!already_complete && !head.bodiless()) {
    if (options.progress) {
      options.progress->bytes_done.fetch_add(offset, std::memory_order_relaxed);
      if (head.content_length) {
        options.progress->bytes_expected.fetch_add(offset + *head.content_length,
                                                   std::memory_order_relaxed);
      }
    }
    // A few KB cost less to copy than to pass through a pipe.
    if (options.copy_below > 0 && head.content_length &&
        *head.content_length < options.copy_below && !head.chunked) {
      method = net::ReceiveMethod::copy;
    }
    PartProgress progress(dir, place.record, file->get(), record, options.sync);
    BodyTransfer transfer{
        .socket = fetched->response.socket.get(),
        .tls = fetched->response.tls.get(),
        .file = file->get(),
        .offset = offset,
        .length = head.content_length,
        .chunked = head.chunked,
        .method = method,
        .timeout = options.timeout,
        .stop = options.stop,
        .progress = options.progress ? &options.progress->bytes_done : nullptr,
        .part = options.resumable ? &progress : nullptr,
        .range = 0,
        .file_name = place.shown_part,
        .ledger = &result.ledger,
        .hasher = hasher ? &*hasher : nullptr,
    };
    auto moved = receive_body(transfer);
    if (!moved) {
      if (options.resumable) (void)progress.save();  // whatever arrived can be resumed
      if (options.stop && options.stop->load(std::memory_order_relaxed)) {
        return std::unexpected(interrupted(place));
      }
      return std::unexpected(moved.error());
    }
    received = *moved;
    if (options.pool && head.content_length && received == *head.content_length) {
      return_connection(std::move(fetched->response), fetched->url, *options.pool);
    }
    if (head.chunked && method != net::ReceiveMethod::copy && !fetched->response.tls) {
      add_note(result.note, "chunked body: decoded in user space, not spliced");
    }
  }
  const std::uint64_t final_size = record.size ? size : offset + received;
  const Stamp stamp{.verified = result.origin_verified, .validator = origin_of(record)};
  if (auto r = finish_part(std::move(*file), place, checked, final_size, stamp,
                           hasher ? &*hasher : nullptr, result);
      !r) {
    return std::unexpected(r.error());
  }
  result.file_size = final_size;
  result.ledger.method = std::string(to_string(method));
  if (fetched->url.tls) {
    result.ledger.method = tls_method;
    add_note(result.note, tls_note);
  }
  if (head.chunked) result.ledger.method += " (chunked)";
  watch.stop_into(result.ledger);
  return result;
}

}  // namespace detail

std::string_view to_string(Durability durability) noexcept {
  switch (durability) {
    case Durability::file:
      return "file";
    case Durability::batch:
      return "batch";
    case Durability::none:
      return "none";
  }
  return "?";
}

std::optional<Durability> durability_from_name(std::string_view text) noexcept {
  for (const Durability d : {Durability::file, Durability::batch, Durability::none}) {
    if (text == to_string(d)) return d;
  }
  return std::nullopt;
}

std::string part_path(const std::string& output) {
  return output + ".part";
}

Result<DownloadResult> download(const Url& url, const DownloadOptions& options) {
  using namespace detail;
  if (options.output.empty()) {
    return fail(Errc::invalid_argument, "download " + url.str(), "no output file name");
  }
  auto method = net::choose(options.method);
  if (!method) return std::unexpected(method.error());
  auto place = open_output_place(options);
  if (!place) return std::unexpected(place.error());
  auto plan = plan_resume(*place, options);
  if (!plan) return std::unexpected(plan.error());
  if (plan->record && !plan->record->size) {
    plan->record.reset();
    plan->note = "the size of the partial download was never known; starting over";
  }
  const bool ranged =
      plan->record ? plan->record->ranges.size() > 1 : options.parallel_ranges > 1 && !plan->forced;
  auto result = ranged ? download_ranges(url, options, method->method, *place, *plan)
                       : download_stream(url, options, method->method, *place, *plan);
  if (result) {
    std::string notes = method->note;
    add_note(notes, plan->note);
    add_note(notes, result->note);
    if (!options.verify_server_digest && !options.checksum) {
      add_note(notes, "not verified against the server's digest (--no-verify)");
    }
    result->note = std::move(notes);
  }
  return result;
}

}  // namespace zc::http
