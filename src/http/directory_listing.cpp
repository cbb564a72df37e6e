#include "zcopy/http/directory_listing.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>

#include "zcopy/core/json_record.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/http/html_escape.hpp"
#include "zcopy/http/open_beneath.hpp"
#include "zcopy/http/url_path.hpp"

namespace zc::http {
namespace {

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
  std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of " +
                    title + "</title></head>\n<body><h1>Index of " + title + "</h1>\n<ul>\n";
  if (url_path != "/") out += "<li><a href=\"../\">../</a></li>\n";
  for (const ListingEntry& e : entries) {
    const std::string shown = e.name + (e.directory ? "/" : "");
    out += "<li><a href=\"" + html_escape(percent_encode_path(shown)) + "\">" + html_escape(shown) +
           "</a>";
    if (!e.directory) out += " " + std::to_string(e.size);
    out += "</li>\n";
  }
  out += "</ul></body></html>\n";
  return out;
}

}  // namespace zc::http
