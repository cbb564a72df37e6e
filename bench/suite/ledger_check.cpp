#include "bench/suite/ledger_check.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <utility>

#include "bench/support/report.hpp"

namespace zc::bench {
namespace {

bool checkable(const Measurement& row) {
  return row.ledger && row.ledger->bytes > 0 && row.cpu_s_per_gb().has_value();
}

double calls_per_gb(const Measurement& row) {
  if (!row.counters || !row.ledger || row.ledger->bytes == 0) return 0;
  return static_cast<double>(row.counters->syscalls_read_write) /
         (static_cast<double>(row.ledger->bytes) / 1e9);
}

}  // namespace

void check_ledgers(std::vector<Measurement>& rows, const CopyCost& cost) {
  const double c_lo = cost.lower_s_per_gb;
  const double c_hi = cost.upper_s_per_gb;
  // The transport floor per bench and size, from the complete ledgers.
  std::map<std::pair<std::string, std::uint64_t>, double> floors;
  for (const Measurement& row : rows) {
    if (!checkable(row) || row.ledger->source != LedgerSource::own) continue;
    const double beyond = std::max(0.0, *row.cpu_s_per_gb() - row.ledger->copies_per_byte() * c_hi);
    auto [it, fresh] = floors.try_emplace({row.bench, row.size_bytes}, beyond);
    if (!fresh) it->second = std::min(it->second, beyond);
  }
  for (Measurement& row : rows) {
    LedgerVerdict& v = row.verdict;
    if (!row.ledger) {
      v = {.status = "not checked", .reason = "no ledger: the measured program reports none"};
      continue;
    }
    if (!checkable(row)) {
      v = {.status = "not checked", .reason = "no CPU figure for the process that moved the bytes"};
      continue;
    }
    if (c_lo <= 0 || c_hi <= 0) {
      v = {.status = "not checked", .reason = "the cost of a copy could not be measured"};
      continue;
    }
    const double k = row.ledger->copies_per_byte();
    const double m = *row.cpu_s_per_gb();
    v.measured_cpu_s_per_gb = m;
    v.claimed_copy_cpu_s_per_gb = k * c_lo;
    if (k * c_lo > kSlack * m) {
      v.status = "disagrees";
      v.reason = format_text(
          "claims %.2f copies per byte, at least %.3f s/GB of CPU, but the process used %.3f s/GB",
          k, k * c_lo, m);
      continue;
    }
    if (row.ledger->source != LedgerSource::own) {
      v.status = "agrees";
      v.reason = format_text(
          "%.2f copies per byte counted by /proc/PID/io (a lower bound) fit in %.3f s/GB", k, m);
      continue;
    }
    const double floor = floors.at({row.bench, row.size_bytes});
    const double explained = k * c_hi + floor + calls_per_gb(row) * cost.syscall_s;
    v.explained_cpu_s_per_gb = explained;
    const double unexplained = m - explained;
    if (unexplained > std::max(c_hi, kShare * explained)) {
      v.status = "disagrees";
      v.reason = format_text(
          "claims %.2f copies per byte, which with the transport floor explain %.3f s/GB, but the "
          "process used %.3f s/GB: %.1f copies per byte unaccounted for",
          k, explained, m, unexplained / c_hi);
      continue;
    }
    v.status = "agrees";
    v.reason = format_text("%.2f copies per byte: between %.3f and %.3f s/GB explained, %.3f used",
                           k, k * c_lo, explained, m);
  }
}

std::string describe_rule(const CopyCost& c) {
  return format_text(
      "A copy of one byte cost between c_lo = %.3f and c_hi = %.3f CPU seconds per GB in this run "
      "(memcpy of %zu chunk sizes: c_lo warm, chunks of 64 KiB or more; c_hi cold), and a system "
      "call %.0f ns. A row claiming "
      "k copies per byte whose process used m CPU s/GB is flagged \"ledger disagrees\" when "
      "(1) k * c_lo > %.2f * m: the claimed copies would have cost more CPU than the process "
      "used; or (2), for ledgers the program counted itself, when m exceeds what its copies "
      "explain, e = k * c_hi + f + calls * syscall (f: the least CPU beyond its own copies that "
      "any row of the same bench and size spent, the transport's floor), by more than max(c_hi, "
      "%.2f * e): a whole copy per byte unaccounted for. Ledgers read from /proc/PID/io count "
      "read()/write() bytes only (no recv(), no user-space copies): a lower bound, checked by "
      "rule 1 alone.",
      c.lower_s_per_gb, c.upper_s_per_gb, c.points.size(), c.syscall_s * 1e9, kSlack, kShare);
}

}  // namespace zc::bench
