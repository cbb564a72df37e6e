// tests/http/get_json.hpp: what `zcopy get --json` says about each source of a download.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace zc::test {

// The bytes `get --json` reports for source `url` (its "get-source" record), or nullopt.
inline std::optional<std::uint64_t> source_bytes_in(const std::string& json,
                                                    const std::string& url) {
  const std::string key = "\"url\":\"" + url + "\",\"bytes\":";
  const std::size_t at = json.find(key);
  if (at == std::string::npos) return std::nullopt;
  return std::stoull(json.substr(at + key.size()));
}

}  // namespace zc::test
