// `zcopy channel bench --json`, run as a user would with tiny settings: every line is one JSON
// object carrying bench, method and size_bytes, and every throughput and latency method reports.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/support/process.hpp"
#include "support/capability_gate.hpp"
#include "support/sanitizer.hpp"
#include "support/shell_command.hpp"

namespace {

using zc::test::run_command;

// The string value of `"key":"..."` in a one-line record, or "" when absent.
std::string string_field(const std::string& line, const std::string& key) {
  const std::string open = "\"" + key + "\":\"";
  const std::size_t at = line.find(open);
  if (at == std::string::npos) return {};
  const std::size_t from = at + open.size();
  return line.substr(from, line.find('"', from) - from);
}

// True when `line` is one flat JSON object: braces around comma-separated "key":value pairs,
// strings without escapes inside, values a string, number, true, false or null.
bool is_flat_json_object(const std::string& line) {
  if (line.size() < 2 || line.front() != '{' || line.back() != '}') return false;
  std::size_t i = 1;
  auto string_at = [&]() {
    if (line[i] != '"') return false;
    const std::size_t end = line.find('"', i + 1);
    if (end == std::string::npos) return false;
    i = end + 1;
    return true;
  };
  for (;;) {
    if (!string_at() || line[i] != ':') return false;
    ++i;
    if (line[i] == '"') {
      if (!string_at()) return false;
    } else {
      const std::size_t end = line.find_first_of(",}", i);
      const std::string value = line.substr(i, end - i);
      char* parsed_to = nullptr;
      std::strtod(value.c_str(), &parsed_to);
      const bool number = !value.empty() && *parsed_to == '\0';
      if (!number && value != "true" && value != "false" && value != "null") return false;
      i = end;
    }
    if (line[i] == '}') return i + 1 == line.size();
    if (line[i] != ',') return false;
    ++i;
  }
}

TEST(ChannelBenchCommand, JsonRecordsCoverEveryMethodAndParse) {
  const std::string tool = zc::test::zcopy_tool();
  ZC_REQUIRE_TOOL();
  const auto result = run_command(tool + " channel bench --sizes 4K --seconds 0.2 --json");
  ASSERT_EQ(result.exit_code, 0) << result.output;

  std::set<std::string> throughput;
  std::set<std::string> latency;
  std::set<std::string> death;
  std::set<std::string> fan_out;
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line)) {
    ASSERT_TRUE(is_flat_json_object(line)) << line;
    const std::string bench = string_field(line, "bench");
    const std::string method = string_field(line, "method");
    EXPECT_FALSE(method.empty()) << line;
    if (bench == "channel-death") {
      death.insert(method);
      for (const char* key : {"latency_p50_ns", "latency_p99_ns", "latency_max_ns", "kills"})
        EXPECT_NE(line.find(std::string("\"") + key + "\":"), std::string::npos) << key;
      continue;
    }
    EXPECT_NE(line.find("\"size_bytes\":4096"), std::string::npos) << line;
    if (bench == "channel-fan-out") {
      fan_out.insert(line.substr(line.find("\"subscribers\":")).substr(0, 16));
      EXPECT_NE(line.find("\"cpu_per_subscriber\":"), std::string::npos) << line;
      continue;
    }
    if (line.find("\"skipped\":") != std::string::npos) {
      // Only a method with a peer program of its own may be missing (IceoryxRecords... below).
      EXPECT_EQ(method.rfind("iceoryx", 0), 0U) << line;
      (bench == "channel-throughput" ? throughput : latency).insert(method);
      continue;
    }
    if (bench == "channel-throughput") {
      throughput.insert(method);
      for (const char* key :
           {"bytes_per_s", "ops_per_s", "cpu_s_per_gb", "bytes_zero_copy", "bytes_copied"})
        EXPECT_NE(line.find(std::string("\"") + key + "\":"), std::string::npos) << key;
      if (method == "zcopy") {
        EXPECT_NE(line.find("\"bytes_copied\":0"), std::string::npos) << line;
      }
    } else {
      EXPECT_EQ(bench, "channel-latency") << line;
      latency.insert(method);
      EXPECT_NE(line.find("\"latency_p99_ns\":"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(throughput, (std::set<std::string>{"zcopy", "zcopy-batch", "iceoryx", "ceiling", "unix",
                                               "pipe", "boost-mq"}));
  EXPECT_EQ(latency, (std::set<std::string>{"floor", "floor-2line", "zcopy-busy", "zcopy-wake",
                                            "iceoryx-busy", "iceoryx-wake", "unix", "pipe"}));
  EXPECT_EQ(death, (std::set<std::string>{"subscriber-killed", "publisher-killed"}));
  EXPECT_EQ(fan_out.size(), 4U) << "1, 2, 4 and 8 subscribers";
}

// iceoryx runs beside zcopy with its settings in every record. Its peer program is not built
// under ThreadSanitizer (iceoryx's libraries are not instrumented), where the records must say so.
TEST(ChannelBenchCommand, IceoryxRecordsCarryFiguresAndTheirQueueSettings) {
  const std::string tool = zc::test::zcopy_tool();
  ZC_REQUIRE_TOOL();
  if (!zc::bench::have_program("iox-roudi")) {
    ZC_SKIP_BECAUSE("needs iox-roudi (scripts/install-deps.sh installs iceoryx)");
  }
  const auto result = run_command(tool + " channel bench --sizes 64 --seconds 0.05 --json");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::istringstream lines(result.output);
  std::string line;
  std::set<std::string> seen;
  while (std::getline(lines, line)) {
    const std::string method = string_field(line, "method");
    if (method.rfind("iceoryx", 0) != 0) continue;
    seen.insert(method);
    if (zc::test::kThreadSanitized) {
      EXPECT_NE(line.find("zcopy-iceoryx-peer was not built"), std::string::npos) << line;
      continue;
    }
    EXPECT_EQ(line.find("\"skipped\":"), std::string::npos) << line;
    EXPECT_NE(line.find("\"queue\":"), std::string::npos) << line;
    EXPECT_NE(line.find("\"history\":0"), std::string::npos) << line;
    EXPECT_EQ(line.find("\"round_trips\":0,"), std::string::npos) << line;
    EXPECT_EQ(line.find("\"messages\":0,"), std::string::npos) << line;
  }
  EXPECT_EQ(seen, (std::set<std::string>{"iceoryx", "iceoryx-busy", "iceoryx-wake"}));
}

TEST(ChannelBenchCommand, ABadSizeListIsAUsageError) {
  const std::string tool = zc::test::zcopy_tool();
  ZC_REQUIRE_TOOL();
  const auto result = run_command(tool + " channel bench --sizes 4K,12Q 2>&1");
  EXPECT_EQ(result.exit_code, 2) << result.output;
}

}  // namespace
