// `zcopy doctor`, run as the built binary (ZCOPY_TOOL) the way a user or a script runs it.
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/prctl.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench/support/process.hpp"
#include "support/capability_gate.hpp"
#include "support/child_process.hpp"
#include "zcopy/core/capabilities.hpp"

namespace zc {
namespace {

struct ToolRun {
  int exit_code = -1;
  std::string output;  // stdout, and stderr too when asked
};

struct RunOptions {
  bool with_stderr = false;
  int drop_capability = -1;  // a CAP_* the tool must run without, or -1
};

// Runs `zcopy <arguments>` and collects its output; nullopt when ZCOPY_TOOL is not set.
std::optional<ToolRun> run_tool(const std::vector<std::string>& arguments,
                                RunOptions options = {}) {
  const char* tool = std::getenv("ZCOPY_TOOL");
  if (tool == nullptr || *tool == '\0') return std::nullopt;
  std::vector<std::string> argv{tool};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const int capability = options.drop_capability;
  auto child = bench::Process::spawn(
      argv, {.out = bench::Output::pipe,
             .err = options.with_stderr ? bench::Output::pipe : bench::Output::null,
             .before_exec = [capability] {
               if (capability < 0) return;
               // Out of the bounding set too, or exec as root would grant it again.
               ::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0);
               test::drop_capability(capability);
             }});
  if (!child) return std::nullopt;
  ToolRun run;
  run.output = child->read_all();
  run.exit_code = child->wait().code;
  return run;
}

constexpr const char* kNoTool = "ZCOPY_TOOL is not set: run through ctest to test the CLI";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Parses one flat JSON object whose values are strings or booleans; nullopt if malformed.
std::optional<std::map<std::string, std::string>> parse_flat_object(const std::string& line) {
  std::map<std::string, std::string> fields;
  std::size_t i = 0;
  auto string_at = [&](std::string& out) {
    if (i >= line.size() || line[i] != '"') return false;
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && ++i >= line.size()) return false;
      out += line[i];
    }
    return i++ < line.size();
  };
  if (line.empty() || line[i++] != '{') return std::nullopt;
  while (i < line.size() && line[i] != '}') {
    std::string key;
    std::string value;
    if (!string_at(key) || i >= line.size() || line[i++] != ':') return std::nullopt;
    if (line.compare(i, 4, "true") == 0) {
      value = "true";
      i += 4;
    } else if (line.compare(i, 5, "false") == 0) {
      value = "false";
      i += 5;
    } else if (!string_at(value)) {
      return std::nullopt;
    }
    fields[key] = value;
    if (i < line.size() && line[i] == ',') ++i;
  }
  if (i + 1 != line.size()) return std::nullopt;
  return fields;
}

std::size_t available_count() {
  std::size_t count = 0;
  for (const Probe& p : probe_all()) count += p.available ? 1 : 0;
  return count;
}

TEST(DoctorCommand, PrintsOneTableRowPerFacilityAndASummary) {
  const auto run = run_tool({"doctor"});
  if (!run) ZC_SKIP_BECAUSE(kNoTool);
  EXPECT_EQ(run->exit_code, 0) << run->output;
  const std::vector<std::string> lines = lines_of(run->output);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.front().find("facility"), std::string::npos) << lines.front();
  EXPECT_NE(lines.front().find("status"), std::string::npos) << lines.front();
  EXPECT_NE(lines.front().find("detail"), std::string::npos) << lines.front();
  for (Capability capability : all_capabilities()) {
    const Probe& p = probe(capability);
    const std::string status = p.available ? " ok " : " missing ";
    bool row_found = false;
    for (const std::string& line : lines) {
      if (line.find("  " + std::string(id(capability)) + " ") == 0 &&
          line.find(status) != std::string::npos) {
        row_found = true;
      }
    }
    EXPECT_TRUE(row_found) << "no '" << id(capability) << "' row with status" << status << "in\n"
                           << run->output;
  }
  const std::string summary = std::to_string(available_count()) + " of " +
                              std::to_string(all_capabilities().size()) + " available";
  EXPECT_EQ(lines.back(), summary) << run->output;
}

TEST(DoctorCommand, JsonIsOneObjectPerLineWithEveryKey) {
  const auto run = run_tool({"doctor", "--json"});
  if (!run) ZC_SKIP_BECAUSE(kNoTool);
  EXPECT_EQ(run->exit_code, 0);
  const std::vector<std::string> lines = lines_of(run->output);
  // The kernel probes first, in their order; then the lines of libraries beside them (the NATS
  // client), each an object with the same keys.
  ASSERT_GT(lines.size(), all_capabilities().size()) << run->output;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto object = parse_flat_object(lines[i]);
    ASSERT_TRUE(object.has_value()) << "not a JSON object: " << lines[i];
    EXPECT_FALSE(object->at("detail").empty()) << lines[i];
    if (i >= all_capabilities().size()) {
      EXPECT_EQ(object->at("capability"), "nats-client") << lines[i];
      EXPECT_EQ(object->at("available"), "true") << lines[i];
      continue;
    }
    const Capability capability = all_capabilities()[i];
    EXPECT_EQ(object->at("capability"), id(capability));
    EXPECT_EQ(object->at("available"), probe(capability).available ? "true" : "false");
  }
}

TEST(DoctorCommand, RequireOfAnAvailableCapabilityExitsZero) {
  // sendfile(2) from a memfd to a socket works on every kernel zcopy supports.
  ASSERT_TRUE(probe(Capability::sendfile).available) << probe(Capability::sendfile).detail;
  const auto run = run_tool({"doctor", "--require", "sendfile,memfd_seals"}, {.with_stderr = true});
  if (!run) ZC_SKIP_BECAUSE(kNoTool);
  EXPECT_EQ(run->exit_code, 0) << run->output;
}

TEST(DoctorCommand, RequireOfAMissingCapabilityExitsThreeNamingIt) {
  // Run without CAP_SYS_ADMIN so that one capability is surely missing, privileged or not.
  const auto run =
      run_tool({"doctor", "--json", "--require", "sendfile", "--require", "cap_sys_admin"},
               {.with_stderr = true, .drop_capability = CAP_SYS_ADMIN});
  if (!run) ZC_SKIP_BECAUSE(kNoTool);
  EXPECT_EQ(run->exit_code, 3) << run->output;
  const std::vector<std::string> lines = lines_of(run->output);
  ASSERT_FALSE(lines.empty());
  EXPECT_NE(lines.back().find("missing cap_sys_admin"), std::string::npos) << lines.back();
  EXPECT_EQ(lines.back().find("sendfile"), std::string::npos) << lines.back();
  // The report itself was still printed, and shows the same verdict.
  bool reported = false;
  for (const std::string& line : lines) {
    const auto object = parse_flat_object(line);
    if (object && object->at("capability") == "cap_sys_admin") {
      reported = object->at("available") == "false";
    }
  }
  EXPECT_TRUE(reported) << run->output;
}

TEST(DoctorCommand, RequireOfAnUnknownNameIsAUsageError) {
  const auto run =
      run_tool({"doctor", "--require", "sendfile,no_such_facility"}, {.with_stderr = true});
  if (!run) ZC_SKIP_BECAUSE(kNoTool);
  EXPECT_EQ(run->exit_code, 2) << run->output;
  EXPECT_NE(run->output.find("no_such_facility"), std::string::npos) << run->output;
}

}  // namespace
}  // namespace zc
