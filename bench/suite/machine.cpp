#include "bench/suite/machine.hpp"

#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <sstream>

#include "bench/support/data.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/units.hpp"

namespace zc::bench {
namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

std::string cpu_model() {
  std::istringstream info(read_text("/proc/cpuinfo"));
  for (std::string line; std::getline(info, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const std::size_t colon = line.find(':');
    if (colon != std::string::npos) return line.substr(colon + 2);
  }
  return "unknown";
}

std::vector<std::string> caches() {
  std::vector<std::string> out;
  const std::string base = "/sys/devices/system/cpu/cpu0/cache";
  for (int i = 0; std::filesystem::exists(base + "/index" + std::to_string(i)); ++i) {
    const std::string dir = base + "/index" + std::to_string(i);
    const std::string level = trimmed(read_text(dir + "/level"));
    const std::string type = trimmed(read_text(dir + "/type"));
    const std::string size = trimmed(read_text(dir + "/size"));
    const std::string suffix = type == "Data" ? "d" : type == "Instruction" ? "i" : "";
    out.push_back("L" + level + suffix + " " + size);
  }
  return out;
}

std::string memory() {
  const std::string info = read_text("/proc/meminfo");
  const std::size_t at = info.find("MemTotal:");
  if (at == std::string::npos) return "unknown";
  const std::uint64_t kib = std::strtoull(info.c_str() + at + 9, nullptr, 10);
  return format_bytes(kib * 1024);
}

// Whether perf may count CPU cycles here: virtual machines often refuse hardware counters.
std::string hardware_counters() {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_HARDWARE;
  attr.config = PERF_COUNT_HW_CPU_CYCLES;
  attr.disabled = 1;
  attr.exclude_kernel = 0;
  const long fd = ::syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd < 0) return std::string("refused: perf_event_open(cycles): ") + std::strerror(errno);
  Fd owned = Fd::adopt(static_cast<int>(fd));
  return "available";
}

std::string function_tracing() {
  for (const char* path : {"/sys/kernel/tracing/available_filter_functions",
                           "/sys/kernel/debug/tracing/available_filter_functions"}) {
    auto fd = Fd::open(path, O_RDONLY);
    if (!fd) continue;
    char byte = 0;
    if (::read(fd->get(), &byte, 1) == 1) return "available";
  }
  return "refused: the ftrace function list is not readable";
}

}  // namespace

std::string Machine::load_average() {
  std::istringstream in(read_text("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

Machine describe_machine() {
  Machine m;
  m.cpu_model = cpu_model();
  m.cores = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  m.caches = caches();
  utsname u{};
  if (::uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
  m.memory = memory();
  m.load_at_start = Machine::load_average();
  m.hardware_counters = hardware_counters();
  m.function_tracing = function_tracing();
  for (const Probe& p : probe_all())
    m.capabilities.emplace_back(std::string(id(p.capability)),
                                p.available ? "ok: " + p.detail : "missing: " + p.detail);
  return m;
}

JsonRecord Machine::record() const {
  JsonRecord r;
  std::string cache_list;
  for (const std::string& c : caches) cache_list += (cache_list.empty() ? "" : ", ") + c;
  r.add("cpu_model", cpu_model)
      .add("cores", cores)
      .add("caches", cache_list)
      .add("kernel", kernel)
      .add("memory", memory)
      .add("load_at_start", load_at_start)
      .add("load_at_end", load_at_end)
      .add("hardware_counters", hardware_counters)
      .add("function_tracing", function_tracing);
  return r;
}

}  // namespace zc::bench
