#include "zcopy/mem/mapped_read_guard.hpp"

#include <atomic>
#include <cerrno>
#include <csetjmp>
#include <csignal>
#include <cstring>
#include <mutex>

namespace zc {
namespace {

// What the current thread reads: the handler runs on the faulting thread, so thread_local state
// is the faulting read's own. Written before the read starts, so the handler never creates it.
struct Declared {
  const std::byte* begin = nullptr;
  const std::byte* end = nullptr;
  sigjmp_buf* jump = nullptr;
};
thread_local Declared t_declared;

struct sigaction g_previous {};
std::once_flag g_installed;
Result<void> g_install_result;

void pass_on(int signo, siginfo_t* info, void* ucontext) {
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(signo, info, ucontext);
    return;
  }
  if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
      g_previous.sa_handler != nullptr) {
    g_previous.sa_handler(signo);
    return;
  }
  // Default (or an ignored SIGBUS, which a real fault would repeat forever): die of SIGBUS. A
  // fault re-executes the access after the return and gets SIG_DFL; a sent SIGBUS is raised
  // again and delivered when the handler returns and unblocks it.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  ::sigemptyset(&dfl.sa_mask);
  ::sigaction(SIGBUS, &dfl, nullptr);
  ::raise(SIGBUS);
}

void on_sigbus(int signo, siginfo_t* info, void* ucontext) {
  const Declared& d = t_declared;
  const auto* address = static_cast<const std::byte*>(info->si_addr);
  // A fault of the declared read (si_code > 0: from the kernel, not kill() or raise()).
  if (d.jump != nullptr && info->si_code > 0 && address >= d.begin && address < d.end) {
    ::siglongjmp(*d.jump, 1);
  }
  pass_on(signo, info, ucontext);
}

Result<void> install() {
  struct sigaction action {};
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  ::sigemptyset(&action.sa_mask);
  if (::sigaction(SIGBUS, &action, &g_previous) != 0)
    return fail_errno(errno, "sigaction(SIGBUS)", "install the mapped-read guard");
  return {};
}

}  // namespace

Result<void> read_guarded(std::span<const std::byte> range, void (*read)(void*), void* context) {
  std::call_once(g_installed, [] { g_install_result = install(); });
  if (!g_install_result) return std::unexpected(g_install_result.error());

  // Safe to jump out of `read` mid-way: read_guarded's caller promises `read` owns nothing with
  // a destructor and its half-done state is thrown away (see the header). The saved mask brings
  // back SIGBUS, blocked while its handler ran.
  sigjmp_buf jump;
  const Declared outer = t_declared;
  if (sigsetjmp(jump, 1) != 0) {
    t_declared = outer;
    return fail_errno(EFAULT, "read mapped file", "the file shrank while it was read");
  }
  t_declared = {range.data(), range.data() + range.size(), &jump};
  std::atomic_signal_fence(std::memory_order_seq_cst);
  read(context);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t_declared = outer;
  return {};
}

}  // namespace zc
