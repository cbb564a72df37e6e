// zcopy/core/units.hpp: byte sizes as people write them ("64K", "1M", "2G") and as we print them.
//
// Suffixes are binary (K = 1024) and case-insensitive; "KiB", "KB" and "K" mean the same.
//
//   zc::Result<std::uint64_t> n = zc::parse_size("64M");   // 67108864
//   std::string s = zc::format_bytes(*n);                  // "64.0 MiB"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "zcopy/core/error.hpp"

namespace zc {

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = 1024 * kKiB;
inline constexpr std::uint64_t kGiB = 1024 * kMiB;

// Parses "4096", "64K", "1.5M", "2GiB". Rejects empty text, unknown suffixes, negative values and
// anything that does not fit in 64 bits.
Result<std::uint64_t> parse_size(std::string_view text);

// "512 B", "64.0 KiB", "1.5 GiB".
std::string format_bytes(std::uint64_t bytes);
// "812 ns", "12.4 us", "3.10 ms", "1.25 s".
std::string format_nanos(double nanos);
// Throughput in decimal units, as networks quote it: "9.81 GB/s".
std::string format_rate(double bytes_per_second);

}  // namespace zc
