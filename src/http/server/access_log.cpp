#include "zcopy/http/server/access_log.hpp"

#include <unistd.h>

#include <cstdio>

#include "zcopy/http/http_date.hpp"

namespace zc::http {

void append_log_line(std::string& buffer, std::string_view client, std::int64_t epoch_seconds,
                     std::string_view request_line, int status, std::uint64_t body_bytes) {
  buffer.append(client);
  buffer += " - - [";
  buffer += format_log_date(epoch_seconds);
  buffer += "] \"";
  if (request_line.empty()) buffer += '-';
  for (const char c : request_line) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02X", u);
      buffer += escaped;
    } else {
      buffer += c;
    }
  }
  buffer += "\" ";
  buffer += std::to_string(status);
  buffer += ' ';
  buffer += body_bytes == 0 ? std::string("-") : std::to_string(body_bytes);
  buffer += '\n';
}

void AccessLog::write(std::string& lines) {
  if (lines.empty()) return;
  {
    std::lock_guard lock(mutex_);
    std::size_t done = 0;
    while (fd_ >= 0 && done < lines.size()) {
      const ssize_t n = ::write(fd_, lines.data() + done, lines.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // a log that cannot be written must not stop the server
      done += static_cast<std::size_t>(n);
    }
  }
  lines.clear();
}

}  // namespace zc::http
