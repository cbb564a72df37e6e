// bench/support/json_fields.hpp: the fields of one flat JSON record, as the benchmarks and
// `zcopy serve --ledger-json` print them (zcopy/core/json_record.hpp): enough to read our own
// records back, not a JSON parser.
//
//   std::optional<double> rate = zc::bench::number_field(line, "bytes_per_s");
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace zc::bench {

// The number after "key": in `record`; nullopt when the key is absent or holds no number.
std::optional<double> number_field(std::string_view record, std::string_view key);
// The string after "key": (JSON escapes undone); nullopt when absent or not a string.
std::optional<std::string> string_field(std::string_view record, std::string_view key);

}  // namespace zc::bench
