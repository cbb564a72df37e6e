#include "bench/xdp/napi_thread.hpp"

#include <dirent.h>
#include <sched.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>

#include "zcopy/xdp/redirect_program.hpp"

namespace zc::bench {

Result<void> set_threaded_napi(const VethPair& link, VethPair::Side side, bool on) {
  const std::string file = "/sys/class/net/" + link.name(side) + "/threaded";
  const int code = link.run_in(side, [&] {
    // The kernel takes the setting only while the device has a NAPI, which veth has only while
    // a program is attached; NAPIs made later (when a receiver attaches its own) inherit it.
    auto program = xdp::RedirectProgram::attach(link.name(side));
    if (!program) return 1;
    // sysfs shows the devices of the namespace that mounted it: mount one of ours, privately.
    if (::unshare(CLONE_NEWNS) != 0) return 2;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return 3;
    if (::mount("sysfs", "/sys", "sysfs", 0, nullptr) != 0) return 4;
    std::ofstream out(file);
    out << (on ? "1" : "0");
    out.flush();
    return out ? 0 : 5;
  });
  if (code != 0) {
    return fail(
        Errc::system, "threaded NAPI",
        "could not write " + file + " in its namespace (step " + std::to_string(code) + ")");
  }
  return {};
}

std::vector<pid_t> napi_threads(const std::string& interface) {
  std::vector<pid_t> found;
  const std::string prefix = "napi/" + interface + "-";
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return found;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    std::ifstream comm("/proc/" + std::string(entry->d_name) + "/comm");
    std::string name;
    if (std::getline(comm, name) && name.starts_with(prefix)) {
      found.push_back(static_cast<pid_t>(pid));
    }
  }
  ::closedir(proc);
  return found;
}

Result<void> make_realtime(pid_t pid, int priority) {
  sched_param param{};
  param.sched_priority = priority;
  if (::sched_setscheduler(pid, SCHED_FIFO, &param) != 0) {
    const int err = errno;
    return fail_errno(err, "sched_setscheduler(" + std::to_string(pid) + ", SCHED_FIFO)",
                      err == EPERM ? "needs CAP_SYS_NICE (run as root)" : "");
  }
  return {};
}

Result<std::vector<pid_t>> pin_new_napi_threads(const std::string& interface,
                                                const std::vector<pid_t>& before, int cpu,
                                                int fifo_priority) {
  std::vector<pid_t> pinned;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(cpu), &set);
  for (const pid_t pid : napi_threads(interface)) {
    if (std::ranges::find(before, pid) != before.end()) continue;
    if (::sched_setaffinity(pid, sizeof set, &set) != 0) {
      return fail_errno(errno, "sched_setaffinity(napi thread " + std::to_string(pid) + ")");
    }
    if (fifo_priority > 0) {
      if (auto rt = make_realtime(pid, fifo_priority); !rt) return std::unexpected(rt.error());
    }
    pinned.push_back(pid);
  }
  return pinned;
}

}  // namespace zc::bench
