// zcopy/core/json_record.hpp: the one-line JSON records every zcopy benchmark prints with --json.
//
// The convention all modules share: one JSON object per line, always with "bench", "method" and
// "size_bytes", then whichever of these apply: "bytes_per_s", "ops_per_s", "cpu_s_per_gb",
// "latency_p50_ns", "latency_p99_ns" (and any other useful field). A record of a transfer adds its
// copy ledger: "bytes_zero_copy" (moved without a CPU copy) and "bytes_copied" (copied by a CPU,
// in user space or in the kernel).
//
//   zc::JsonRecord r = zc::bench_record("fault-jitter", "pinned", 64 * zc::kMiB);
//   r.add("latency_p99_ns", 120.0).add("minor_faults", std::uint64_t{0});
//   std::puts(r.str().c_str());
//   // {"bench":"fault-jitter","method":"pinned","size_bytes":67108864,"latency_p99_ns":120,...}
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zc {

class JsonRecord {
 public:
  JsonRecord& add(std::string_view key, std::string_view value);
  JsonRecord& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  JsonRecord& add(std::string_view key, std::uint64_t value);
  JsonRecord& add(std::string_view key, std::int64_t value);
  JsonRecord& add(std::string_view key, int value) {
    return add(key, static_cast<std::int64_t>(value));
  }
  JsonRecord& add(std::string_view key, double value);  // non-finite values become null
  JsonRecord& add(std::string_view key, bool value);

  // The object as one line, without a trailing newline.
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void add_key(std::string_view key);
  std::string body_;
};

// A record with the three fields every benchmark record carries.
JsonRecord bench_record(std::string_view bench, std::string_view method, std::uint64_t size_bytes);

// `text` as a JSON string literal, quotes included.
std::string json_quote(std::string_view text);

}  // namespace zc
