// bench/support/table.hpp: a plain-text table with aligned columns, for figures people read.
//
//   Table t({"facility", "status", "detail"});
//   t.add_row({"io_uring", "ok", "kernel 6.18"});
//   t.print(stdout);
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace zc::bench {

// `value` with `decimals` digits after the point, for a table cell: fixed(0.4381, 3) is "0.438".
std::string fixed(double value, int decimals);

class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // The header, a rule and the rows, each line indented by two spaces.
  std::string str() const;
  void print(std::FILE* out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace zc::bench
