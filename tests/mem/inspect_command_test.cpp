// `zcopy inspect`, run as a user would: the real binary (ZCOPY_TOOL), its output and exit code.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/capability_gate.hpp"
#include "support/child_process.hpp"
#include "support/shell_command.hpp"

namespace {

std::string tool() {
  return zc::test::zcopy_tool();
}

struct ToolRun {
  int exit_code = -1;
  std::string out;
};

// Runs `zcopy <arguments>` with stderr discarded, collecting stdout and the exit code.
ToolRun run_tool(const std::string& arguments) {
  const auto result = zc::test::run_command("'" + tool() + "' " + arguments + " 2>/dev/null");
  return {.exit_code = result.exit_code, .out = result.output};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Parses one flat JSON object (string, number, true/false/null values: what bench records hold)
// into key -> value text, strings without their quotes. Empty when the line is not such an object.
class FlatJson {
 public:
  static std::optional<std::map<std::string, std::string>> parse(const std::string& text) {
    FlatJson p(text);
    std::map<std::string, std::string> fields;
    p.skip_space();
    if (!p.eat('{')) return std::nullopt;
    p.skip_space();
    if (!p.eat('}')) {
      do {
        p.skip_space();
        auto key = p.string();
        p.skip_space();
        if (!key || !p.eat(':')) return std::nullopt;
        p.skip_space();
        auto value = p.value();
        if (!value || fields.count(*key) != 0) return std::nullopt;
        fields[*key] = *value;
        p.skip_space();
      } while (p.eat(','));
      if (!p.eat('}')) return std::nullopt;
    }
    p.skip_space();
    if (p.pos_ != p.text_.size()) return std::nullopt;
    return fields;
  }

 private:
  explicit FlatJson(const std::string& text) : text_(text) {}

  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_])) != 0)
      ++pos_;
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\') {
        if (++pos_ >= text_.size()) return std::nullopt;
      }
      out += text_[pos_++];
    }
    if (!eat('"')) return std::nullopt;
    return out;
  }
  std::optional<std::string> value() {
    if (pos_ < text_.size() && text_[pos_] == '"') return string();
    for (const char* word : {"true", "false", "null"}) {
      const std::string w(word);
      if (text_.compare(pos_, w.size(), w) == 0) {
        pos_ += w.size();
        return w;
      }
    }
    const std::size_t start = pos_;
    eat('-');
    while (pos_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '.' ||
            text_[pos_] == 'e' || text_[pos_] == 'E' || text_[pos_] == '+' || text_[pos_] == '-'))
      ++pos_;
    if (pos_ == start || std::isdigit(static_cast<unsigned char>(text_[pos_ - 1])) == 0)
      return std::nullopt;
    return text_.substr(start, pos_ - start);
  }

  const std::string& text_;
  std::size_t pos_ = 0;
};

TEST(InspectCommand, TextOutputDescribesSegmentsAndFaults) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_CAPABILITY(zc::Capability::pagemap_physical);
  ZC_REQUIRE_CAPABILITY(zc::Capability::memlock);
  const ToolRun run = run_tool("inspect --size 8M");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("segments"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("largest segment"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("first touch"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("pinned"), std::string::npos) << run.out;
}

TEST(InspectCommand, JsonOutputIsOneBenchRecordPerLine) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_CAPABILITY(zc::Capability::pagemap_physical);
  ZC_REQUIRE_CAPABILITY(zc::Capability::memlock);
  const ToolRun run = run_tool("inspect --size 8M --json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const std::vector<std::string> lines = lines_of(run.out);
  ASSERT_EQ(lines.size(), 3U) << run.out;

  std::map<std::string, std::map<std::string, std::string>> by_method;
  for (const std::string& line : lines) {
    auto record = FlatJson::parse(line);
    ASSERT_TRUE(record) << "not a flat JSON object: " << line;
    ASSERT_EQ(record->count("bench"), 1U) << line;
    ASSERT_EQ(record->count("method"), 1U) << line;
    ASSERT_EQ(record->count("size_bytes"), 1U) << line;
    EXPECT_EQ(record->at("size_bytes"), "8388608") << line;
    by_method[record->at("bench") + "/" + record->at("method")] = *record;
  }
  ASSERT_EQ(by_method.count("physical-layout/4k"), 1U) << run.out;
  ASSERT_EQ(by_method.count("fault-jitter/first-touch"), 1U) << run.out;
  ASSERT_EQ(by_method.count("fault-jitter/pinned"), 1U) << run.out;

  const auto& layout = by_method["physical-layout/4k"];
  EXPECT_EQ(layout.at("pages"), "2048");
  EXPECT_EQ(layout.at("present_pages"), "2048");
  EXPECT_GE(std::stoull(layout.at("segments")), 1U);
  EXPECT_GT(std::stoull(layout.at("largest_segment_bytes")), 0U);
  for (const char* method : {"fault-jitter/first-touch", "fault-jitter/pinned"}) {
    for (const char* key : {"latency_p50_ns", "latency_p99_ns", "latency_max_ns", "minor_faults"})
      EXPECT_EQ(by_method[method].count(key), 1U) << method << " lacks " << key;
  }
  // Counts, not times: the fresh buffer faults on (nearly) every page, the pinned one hardly ever.
  EXPECT_GE(std::stoull(by_method["fault-jitter/first-touch"].at("minor_faults")), 2048U * 9 / 10);
  EXPECT_LE(std::stoull(by_method["fault-jitter/pinned"].at("minor_faults")), 8U);
}

TEST(InspectCommand, HugePagesGiveFewerSegments) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_CAPABILITY(zc::Capability::pagemap_physical);
  ZC_REQUIRE_CAPABILITY(zc::Capability::memlock);
  ZC_REQUIRE_CAPABILITY(zc::Capability::transparent_huge_pages);
  const ToolRun run = run_tool("inspect --size 16M --huge --json");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  std::optional<std::map<std::string, std::string>> layout;
  for (const std::string& line : lines_of(run.out)) {
    auto record = FlatJson::parse(line);
    ASSERT_TRUE(record) << line;
    if (record->at("bench") == "physical-layout") layout = record;
  }
  ASSERT_TRUE(layout) << run.out;
  EXPECT_EQ(layout->at("method"), "thp");
  // 16 MiB is 8 huge pages: at most 8 runs, each at least 2 MiB.
  EXPECT_LE(std::stoull(layout->at("segments")), 8U);
  EXPECT_GE(std::stoull(layout->at("largest_segment_bytes")), 2U * 1024 * 1024);
}

TEST(InspectCommand, InvalidSizeIsAUsageError) {
  ZC_REQUIRE_TOOL();
  EXPECT_EQ(run_tool("inspect --size 12Q").exit_code, 2);
  EXPECT_EQ(run_tool("inspect --size -5").exit_code, 2);
  EXPECT_EQ(run_tool("inspect --size 0").exit_code, 2);
}

TEST(InspectCommand, WithoutCapSysAdminExitsWithTheCapabilityCode) {
  ZC_REQUIRE_TOOL();
  ZC_REQUIRE_CAPABILITY(zc::Capability::cap_sys_admin);
  ZC_REQUIRE_CAPABILITY(zc::Capability::memlock);
  const int status = zc::test::run_in_child([] {
    // Out of the bounding set too: root regains every permitted capability on exec otherwise.
    if (::prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN, 0, 0, 0) != 0) return 100;
    if (!zc::test::drop_capability(CAP_SYS_ADMIN)) return 101;
    return run_tool("inspect --size 1M").exit_code;
  });
  EXPECT_EQ(status, 3);
}

}  // namespace
