// Every command's usage errors: a bad option value, a missing argument, options that contradict
// each other. Each exits 2 with one line on stderr, before anything runs, as the README promises.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "support/capability_gate.hpp"
#include "support/shell_command.hpp"

namespace {

struct UsageCase {
  const char* arguments;
  const char* named;  // what the line must mention
};

void expect_usage_error(const UsageCase& c) {
  const std::string tool = zc::test::zcopy_tool();
  // stdin from /dev/null and a 60 s bound: a command that starts running instead of refusing
  // (a server, a publisher waiting for subscribers) is stopped and fails the check.
  const auto run = zc::test::run_command("timeout 60 " + tool + " " + c.arguments +
                                         " </dev/null 2>&1 >/dev/null");
  EXPECT_EQ(run.exit_code, 2) << c.arguments << ": " << run.output;
  EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1)
      << c.arguments << ": " << run.output;
  EXPECT_NE(run.output.find(c.named), std::string::npos) << c.arguments << ": " << run.output;
}

TEST(CliUsageErrors, ServeRefusesBadValuesWithExitTwo) {
  ZC_REQUIRE_TOOL();
  for (const UsageCase& c : {
           UsageCase{"serve /tmp --method pigeon", "pigeon"},
           UsageCase{"serve /tmp --port 70000", "--port"},
           UsageCase{"serve /tmp --threads many", "--threads"},
           UsageCase{"serve /tmp --header-timeout -5", "--header-timeout"},
           UsageCase{"serve /tmp --idle-timeout 0", "--idle-timeout"},
           UsageCase{"serve /tmp --max-connections 0", "--max-connections"},
           UsageCase{"serve", "which directory"},
           UsageCase{"serve bench --size 12Q", "12Q"},
           UsageCase{"serve bench --repeats 0", "--repeats"},
           UsageCase{"serve bench --wrk-seconds -1", "--wrk-seconds"},
       }) {
    expect_usage_error(c);
  }
}

TEST(CliUsageErrors, GetRefusesBadValuesWithExitTwo) {
  ZC_REQUIRE_TOOL();
  for (const UsageCase& c : {
           UsageCase{"get", "no URL"},
           UsageCase{"get --method pigeon http://127.0.0.1:1/x", "pigeon"},
           UsageCase{"get --method sendfile http://127.0.0.1:1/x", "use splice"},
           UsageCase{"get ftp://127.0.0.1/x", "ftp"},
           UsageCase{"get -j 0 http://127.0.0.1:1/x", "--jobs"},
           UsageCase{"get --timeout 0 http://127.0.0.1:1/x", "--timeout"},
           UsageCase{"get --bench-size 1Q", "1Q"},
       }) {
    expect_usage_error(c);
  }
}

TEST(CliUsageErrors, MountChannelInspectPerfDoctorDemoAndXdpRefuseBadValuesWithExitTwo) {
  ZC_REQUIRE_TOOL();
  for (const UsageCase& c : {
           UsageCase{"mount", "SOURCE and MOUNTPOINT"},
           UsageCase{"mount /tmp /mnt --mode pigeon", "pigeon"},
           UsageCase{"mount bench --modes splice,pigeon", "pigeon"},
           UsageCase{"mount bench --size 0", "--size"},
           UsageCase{"channel pub 'bad name!'", "bad name!"},
           UsageCase{"channel pub x --depth 3 --subscribers 0", "queue depth"},
           UsageCase{"channel pub x --chunk-size 0 --subscribers 0", "chunk size"},
           UsageCase{"channel pub x --wait -1", "--wait"},
           UsageCase{"channel export x --subject a.* --nats nats://127.0.0.1:1", "wildcards"},
           UsageCase{"channel import a..b --channel c --nats nats://127.0.0.1:1", "NATS subject"},
           UsageCase{"channel import a --channel c --on-full maybe --nats nats://127.0.0.1:1",
                     "--on-full"},
           UsageCase{"channel bench --sizes 0", "--sizes"},
           UsageCase{"inspect --size 0", "--size"},
           UsageCase{"perf client --port 1 --size 2M --working-set 1M", "--working-set"},
           UsageCase{"perf client --port 1 --method sendfile --udp", "TCP only"},
           UsageCase{"perf client --port 1 --udp --segment 0", "--segment"},
           UsageCase{"perf server --port 99999", "--port"},
           UsageCase{"doctor --require pigeon", "pigeon"},
           UsageCase{"demo --size 0", "--size"},
           UsageCase{"xdp", "subcommand"},
           UsageCase{"xdp count", "interface"},
           UsageCase{"xdp capture lo", "-w"},
           UsageCase{"xdp count lo --queue 999", "--queue"},
           UsageCase{"xdp count lo --mode pigeon", "pigeon"},
           UsageCase{"xdp count lo --frames 1", "--frames"},
           UsageCase{"xdp capture lo -w x.pcap --snaplen 0", "--snaplen"},
           UsageCase{"xdp forward lo --to lo", "--to"},
       }) {
    expect_usage_error(c);
  }
}

// Checked before anything is measured or written: a typo in --only costs nothing.
TEST(CliUsageErrors, BenchRefusesAnUnknownModuleAndBothLengthsWithExitTwo) {
  ZC_REQUIRE_TOOL();
  for (const UsageCase& c : {
           UsageCase{"bench --only serve,pigeon --out /nonexistent/zcopy-bench", "pigeon"},
           UsageCase{"bench --quick --full", "--full"},
       }) {
    expect_usage_error(c);
  }
}

}  // namespace
