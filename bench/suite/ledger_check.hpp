// bench/suite/ledger_check.hpp: every claimed copy ledger held against the CPU its process spent.
//
// A copy of a byte costs CPU; the run measured how much (copy_cost.hpp): between c_lo (warm, the
// cheapest) and c_hi (cold, the dearest) seconds per 10^9 bytes. A row that claims k copies per
// byte and whose process used m CPU seconds per 10^9 bytes is checked in two ways:
//
//  1. Claims more than it paid for: k * c_lo > kSlack * m. Even at the cheapest copy this machine
//     made, the claimed copies would have cost more CPU than the process used in all.
//  2. Paid far more than it claims (complete ledgers only): the transport floor f of a bench is
//     the least CPU any row of the same bench and size spent beyond its own claimed copies,
//     min(m_r - k_r * c_hi), never below zero: what moving the bytes costs without copying them.
//     A row's CPU is explained by e = k * c_hi + f + calls * s_call (its read/write calls where
//     they were counted, at the measured cost of a system call). If m - e > max(c_hi, kShare * e),
//     at least one whole copy per byte's worth of CPU is unexplained.
//
// Either one marks the row "ledger disagrees" with both figures. A ledger read from /proc/PID/io
// is a lower bound (recv() and user-space copies are not counted), so only rule 1 applies to it.
#pragma once

#include <string>
#include <vector>

#include "bench/suite/copy_cost.hpp"
#include "bench/suite/measurement.hpp"

namespace zc::bench {

inline constexpr double kSlack = 1.25;  // rule 1: room for CPU accounting granularity
inline constexpr double kShare = 0.5;   // rule 2: unexplained share of the explained CPU

// Sets `verdict` on every row that carries a ledger and a CPU figure.
void check_ledgers(std::vector<Measurement>& rows, const CopyCost& cost);

// The rule in words, with this run's thresholds, for the report.
std::string describe_rule(const CopyCost& cost);

}  // namespace zc::bench
