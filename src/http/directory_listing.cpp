#include "zcopy/http/directory_listing.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <memory>

#include "zcopy/core/json_record.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/html_escape.hpp"
#include "zcopy/http/open_beneath.hpp"
#include "zcopy/http/url_path.hpp"

namespace zc::http {
namespace {

// "2026-12-06 08:05", in UTC, as listings usually show it.
std::string listing_time(std::int64_t seconds) {
  const auto t = static_cast<std::time_t>(seconds);
  std::tm parts{};
  char text[32];
  if (::gmtime_r(&t, &parts) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%d %H:%M", &parts) == 0)
    return "-";
  return text;
}

struct DirCloser {
  void operator()(DIR* dir) const noexcept { ::closedir(dir); }
};

}  // namespace

Result<std::vector<ListingEntry>> list_directory(int root_fd, const std::string& relative) {
  auto dir_fd = open_beneath(root_fd, relative, O_RDONLY | O_DIRECTORY);
  if (!dir_fd) return std::unexpected(dir_fd.error());
  std::unique_ptr<DIR, DirCloser> dir(::fdopendir(dir_fd->get()));
  if (!dir) return fail_errno(errno, "fdopendir(" + relative + ")");
  (void)dir_fd->release();  // the DIR owns it now

  const std::string prefix = relative == "." ? "" : relative + "/";
  std::vector<ListingEntry> entries;
  errno = 0;
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    // Looked up from the root, so a link may point anywhere inside the tree but not out of it.
    auto target = open_beneath(root_fd, prefix + std::string(name), O_PATH);
    if (!target) continue;  // dangling, escaping or unreadable: not listed
    struct stat st {};
    if (::fstat(target->get(), &st) != 0) continue;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) continue;
    entries.push_back({.name = std::string(name),
                       .directory = S_ISDIR(st.st_mode),
                       .size = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0,
                       .mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec)});
  }
  std::sort(entries.begin(), entries.end(),
            [](const ListingEntry& a, const ListingEntry& b) { return a.name < b.name; });
  return entries;
}

std::string listing_json(std::string_view url_path, const std::vector<ListingEntry>& entries) {
  std::string out = "{\"path\":" + json_quote(url_path) + ",\"entries\":[";
  bool first = true;
  for (const ListingEntry& e : entries) {
    if (!first) out += ',';
    first = false;
    out += "{\"name\":" + json_quote(e.name);
    if (e.directory) {
      out += ",\"type\":\"dir\"";
    } else {
      out += ",\"type\":\"file\",\"size\":" + std::to_string(e.size);
    }
    out += ",\"mtime\":" + std::to_string(e.mtime) + "}";
  }
  out += "]}\n";
  return out;
}

std::string listing_html(std::string_view url_path, const std::vector<ListingEntry>& entries) {
  const std::string title = html_escape(url_path);
  std::string out =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width\">"
      "<link rel=\"icon\" href=\"data:,\"><title>Index of " +
      title +
      "</title>\n<style>body{font-family:sans-serif;margin:1.5em}"
      "table{border-collapse:collapse}th,td{padding:.2em 1.2em .2em 0;text-align:left}"
      "th{border-bottom:1px solid #999}td.size{text-align:right;font-variant-numeric:tabular-nums}"
      "tr:hover td{background:#f3f3f3}</style></head>\n<body><h1>Index of " +
      title +
      "</h1>\n<table>\n<thead><tr><th>Name</th><th>Size</th><th>Last modified (UTC)</th></tr>"
      "</thead>\n<tbody>\n";
  if (url_path != "/")
    out += "<tr><td><a href=\"../\">../</a></td><td class=\"size\">-</td><td></td></tr>\n";
  // Directories first, each group by name (the entries come sorted by name).
  std::vector<const ListingEntry*> shown_order;
  shown_order.reserve(entries.size());
  for (const ListingEntry& e : entries) shown_order.push_back(&e);
  std::stable_sort(shown_order.begin(), shown_order.end(),
                   [](const ListingEntry* a, const ListingEntry* b) {
                     if (a->directory != b->directory) return a->directory;
                     return a->name < b->name;
                   });
  for (const ListingEntry* e : shown_order) {
    const std::string shown = e->name + (e->directory ? "/" : "");
    out += "<tr><td><a href=\"" + html_escape(percent_encode_path(shown)) + "\">" +
           html_escape(shown) + "</a></td><td class=\"size\">" +
           (e->directory ? std::string("-") : format_bytes(e->size)) + "</td><td>" +
           listing_time(e->mtime) + "</td></tr>\n";
  }
  out += "</tbody>\n</table></body></html>\n";
  return out;
}

}  // namespace zc::http
