// bench/support/report.hpp: what a benchmark shows when it is done: one JSON record per figure
// (zcopy/core/json_record.hpp) for scripts, or text with tables for people.
//
//   const zc::bench::Report report = zc::bench::describe(*figures, config);
//   report.print(stdout, json);
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "zcopy/core/json_record.hpp"

namespace zc::bench {

struct Report {
  std::vector<JsonRecord> records;
  std::string text;

  // The records, one per line, with `json`; otherwise the text.
  void print(std::FILE* out, bool json) const {
    if (!json) {
      std::fputs(text.c_str(), out);
      return;
    }
    for (const JsonRecord& record : records) std::fprintf(out, "%s\n", record.str().c_str());
  }
};

// printf into a std::string, for the lines around a report's tables.
[[gnu::format(printf, 1, 2)]] std::string format_text(const char* format, ...);

}  // namespace zc::bench
