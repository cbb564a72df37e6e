// zcopy/http/client/part_record.hpp: OUTPUT.part.zcopy, what a partial download knows about itself.
//
//   zcopy-part 1
//   url http://host/big.bin
//   size 314572800
//   etag "65a1-12c00000"
//   last-modified Sat, 13 Jan 2024 10:00:00 GMT
//   range 0 157286399 52428800
//   range 157286400 314572799 0
//   end
//
// The record keeps the validator of the first response (ETag, Last-Modified) and, per range,
// how many bytes from its start are in OUTPUT.part and synced. A ranged .part is sized to the
// whole file before the ranges arrive, so its size proves nothing: only this record says which
// bytes are data and which are holes. It is rewritten (new file, then rename) only after the
// .part's data is synced, so it never claims a byte the disk may not have.
//
// Nothing in it is trusted: the parser is strict (every line known, ranges in order, covering
// the size exactly, progress within each range, an "end" line) and a record that fails gets
// Errc::corrupt naming the line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "zcopy/core/error.hpp"

namespace zc::http {

// The most ranges a record may hold, and the most bytes it may take.
inline constexpr std::size_t kMaxRecordRanges = 1024;
inline constexpr std::size_t kMaxRecordBytes = 128 * 1024;

struct PartRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t done = 0;  // bytes from `first` on that are in the .part

  std::uint64_t length() const noexcept { return last - first + 1; }
};

struct PartRecord {
  std::string url;
  std::optional<std::uint64_t> size;  // empty: the server did not say (chunked or close-ended)
  std::string etag;                   // empty when the server sent none
  std::string last_modified;          // empty when the server sent none
  std::vector<PartRange> ranges;      // cover [0, size) in order; none when size is 0 or unknown

  bool has_validator() const noexcept { return !etag.empty() || !last_modified.empty(); }
  // The validator to send in If-Range: the ETag if there is one (a strong one only), else the
  // Last-Modified date; empty when neither can be used.
  std::string if_range() const;
  std::uint64_t bytes_done() const noexcept;
};

std::string format_part_record(const PartRecord& record);
Result<PartRecord> parse_part_record(std::string_view text);

// OUTPUT.part.zcopy for OUTPUT.
std::string record_path(const std::string& output);

// The record `name` in directory `dir_fd`: std::nullopt when there is none, an error when it
// cannot be read or is corrupt.
Result<std::optional<PartRecord>> load_part_record(int dir_fd, const std::string& name);
// Replaces the record `name` in `dir_fd` atomically (NAME.new, then rename); `sync` makes the
// new record durable before it replaces the old one.
Result<void> store_part_record(int dir_fd, const std::string& name, const PartRecord& record,
                               bool sync);
// Removes the record (and a leftover NAME.new); a missing record is not an error.
void remove_part_record(int dir_fd, const std::string& name);

}  // namespace zc::http
