#include "zcopy/http/client/part_record.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"

namespace zc::http {
namespace {

constexpr std::string_view kMagic = "zcopy-part 1";

std::unexpected<Error> corrupt(std::size_t line, const std::string& what) {
  return fail(Errc::corrupt, "parse part record", "line " + std::to_string(line) + ": " + what);
}

// Values are one line of visible text: no control bytes (the record is read back line by line,
// and its values end up in requests and messages).
bool plain_value(std::string_view value) {
  if (value.empty()) return false;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) return false;
  }
  return true;
}

std::optional<std::uint64_t> number(std::string_view text) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<PartRange> range_of(std::string_view text) {
  PartRange range;
  std::uint64_t* fields[] = {&range.first, &range.last, &range.done};
  for (std::size_t i = 0; i < 3; ++i) {
    const std::size_t space = text.find(' ');
    if ((space == std::string_view::npos) != (i == 2)) return std::nullopt;
    auto value = number(text.substr(0, space));
    if (!value) return std::nullopt;
    *fields[i] = *value;
    if (i < 2) text.remove_prefix(space + 1);
  }
  return range;
}

Result<void> check_ranges(const PartRecord& record, std::size_t end_line) {
  const std::uint64_t size = record.size.value_or(0);
  if (size == 0) {
    if (!record.ranges.empty()) {
      return corrupt(end_line, "ranges for a file of unknown or zero size");
    }
    return {};
  }
  if (record.ranges.empty()) return corrupt(end_line, "no range for a file of known size");
  std::uint64_t next = 0;
  for (const PartRange& r : record.ranges) {
    if (r.first != next || r.last < r.first || r.last >= size) {
      return corrupt(end_line, "range " + std::to_string(r.first) + "-" + std::to_string(r.last) +
                                   " does not follow on from byte " + std::to_string(next) +
                                   " within " + std::to_string(size) + " bytes");
    }
    if (r.done > r.length()) {
      return corrupt(end_line, "range " + std::to_string(r.first) + "-" + std::to_string(r.last) +
                                   " claims " + std::to_string(r.done) + " bytes done");
    }
    next = r.last + 1;
  }
  if (next != size) {
    return corrupt(end_line, "ranges end at byte " + std::to_string(next) + ", not at " +
                                 std::to_string(size));
  }
  return {};
}

}  // namespace

std::string PartRecord::if_range() const {
  if (!etag.empty() && !etag.starts_with("W/")) return etag;  // If-Range takes strong tags only
  return last_modified;
}

std::uint64_t PartRecord::bytes_done() const noexcept {
  std::uint64_t done = 0;
  for (const PartRange& r : ranges) done += r.done;
  return done;
}

std::string format_part_record(const PartRecord& record) {
  std::string out = std::string(kMagic) + "\n";
  if (!record.url.empty()) out += "url " + record.url + "\n";
  out += "size " + (record.size ? std::to_string(*record.size) : std::string("unknown")) + "\n";
  if (!record.etag.empty()) out += "etag " + record.etag + "\n";
  if (!record.last_modified.empty()) out += "last-modified " + record.last_modified + "\n";
  for (const PartRange& r : record.ranges) {
    out += "range " + std::to_string(r.first) + " " + std::to_string(r.last) + " " +
           std::to_string(r.done) + "\n";
  }
  out += "end\n";
  return out;
}

Result<PartRecord> parse_part_record(std::string_view text) {
  if (text.size() > kMaxRecordBytes) return corrupt(1, "larger than 128 KiB");
  PartRecord record;
  bool seen_size = false;
  bool seen_end = false;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t eol = text.find('\n');
    if (eol == std::string_view::npos) return corrupt(line_number, "no newline at the end");
    const std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol + 1);
    if (seen_end) return corrupt(line_number, "text after 'end'");
    if (line_number == 1) {
      if (line != kMagic)
        return corrupt(1, "not a zcopy part record (expected '" + std::string(kMagic) + "')");
      continue;
    }
    if (line == "end") {
      seen_end = true;
      continue;
    }
    const std::size_t space = line.find(' ');
    const std::string_view key = line.substr(0, space);
    const std::string_view value =
        space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
    if (!plain_value(value)) {
      return corrupt(line_number, "'" + std::string(key.substr(0, 32)) + "' without a plain value");
    }
    auto once = [&](std::string& field) -> Result<void> {
      if (!field.empty()) return corrupt(line_number, "'" + std::string(key) + "' twice");
      field = value;
      return {};
    };
    if (key == "url") {
      if (auto r = once(record.url); !r) return std::unexpected(r.error());
    } else if (key == "etag") {
      if (auto r = once(record.etag); !r) return std::unexpected(r.error());
    } else if (key == "last-modified") {
      if (auto r = once(record.last_modified); !r) return std::unexpected(r.error());
    } else if (key == "size") {
      if (seen_size) return corrupt(line_number, "'size' twice");
      seen_size = true;
      if (value != "unknown") {
        record.size = number(value);
        if (!record.size) return corrupt(line_number, "size is not a number");
      }
    } else if (key == "range") {
      if (record.ranges.size() >= kMaxRecordRanges) {
        return corrupt(line_number, "more than " + std::to_string(kMaxRecordRanges) + " ranges");
      }
      auto range = range_of(value);
      if (!range) return corrupt(line_number, "expected 'range FIRST LAST DONE'");
      record.ranges.push_back(*range);
    } else {
      return corrupt(line_number, "unknown line '" + std::string(key.substr(0, 32)) + "'");
    }
  }
  if (line_number == 0) return corrupt(1, "empty");
  if (!seen_end) return corrupt(line_number, "no 'end' line (cut short?)");
  if (!seen_size) return corrupt(line_number, "no 'size' line");
  if (auto r = check_ranges(record, line_number); !r) return std::unexpected(r.error());
  return record;
}

std::string record_path(const std::string& output) {
  return output + ".part.zcopy";
}

Result<std::optional<PartRecord>> load_part_record(int dir_fd, const std::string& name) {
  auto file = Fd::open_at(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  if (!file) {
    if (file.error().sys_errno() == ENOENT) return std::optional<PartRecord>();
    return std::unexpected(file.error());
  }
  struct stat st {};
  if (::fstat(file->get(), &st) != 0) return fail_errno(errno, "fstat(" + name + ")");
  if (!S_ISREG(st.st_mode)) return fail(Errc::corrupt, "read " + name, "not a regular file");
  std::string text(kMaxRecordBytes + 1, '\0');
  std::size_t have = 0;
  while (have < text.size()) {
    auto n = sys_call({"read", file->get()},
                      [&] { return ::read(file->get(), text.data() + have, text.size() - have); });
    if (!n) return std::unexpected(std::move(n.error()).with_context(name));
    if (*n == 0) break;
    have += static_cast<std::size_t>(*n);
  }
  text.resize(have);
  auto record = parse_part_record(text);
  if (!record) return std::unexpected(std::move(record.error()).with_context(name));
  return std::optional<PartRecord>(std::move(*record));
}

Result<void> store_part_record(int dir_fd, const std::string& name, const PartRecord& record,
                               bool sync) {
  const std::string fresh = name + ".new";
  auto file = Fd::open_at(dir_fd, fresh, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0644);
  if (!file) return std::unexpected(file.error());
  const std::string text = format_part_record(record);
  std::size_t done = 0;
  while (done < text.size()) {
    auto n = sys_call({"write", file->get()},
                      [&] { return ::write(file->get(), text.data() + done, text.size() - done); });
    if (!n) return std::unexpected(std::move(n.error()).with_context(fresh));
    done += static_cast<std::size_t>(*n);
  }
  if (sync) {
    if (auto r = sys_call({"fdatasync", file->get()}, [&] { return ::fdatasync(file->get()); });
        !r) {
      return std::unexpected(std::move(r.error()).with_context(fresh));
    }
  }
  if (::renameat(dir_fd, fresh.c_str(), dir_fd, name.c_str()) != 0) {
    return fail_errno(errno, "rename(" + fresh + ", " + name + ")");
  }
  return {};
}

void remove_part_record(int dir_fd, const std::string& name) {
  (void)::unlinkat(dir_fd, name.c_str(), 0);
  (void)::unlinkat(dir_fd, (name + ".new").c_str(), 0);
}

}  // namespace zc::http
