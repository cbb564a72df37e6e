#include "zcopy/core/transfer_ledger.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>

#include "zcopy/core/units.hpp"

namespace zc {
namespace {

CpuTime cpu_time(int who) noexcept {
  rusage usage{};
  ::getrusage(who, &usage);
  auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
  };
  return {.user_s = seconds(usage.ru_utime), .system_s = seconds(usage.ru_stime)};
}

}  // namespace

CpuTime process_cpu_time() noexcept {
  return cpu_time(RUSAGE_SELF);
}
CpuTime thread_cpu_time() noexcept {
  return cpu_time(RUSAGE_THREAD);
}

double TransferLedger::cpu_s_per_gb() const noexcept {
  return bytes == 0 ? 0.0 : cpu_s() / (static_cast<double>(bytes) / 1e9);
}

double TransferLedger::bytes_per_s() const noexcept {
  return wall_s <= 0 ? 0.0 : static_cast<double>(bytes) / wall_s;
}

void TransferLedger::merge(const TransferLedger& other) noexcept {
  bytes += other.bytes;
  bytes_zero_copy += other.bytes_zero_copy;
  bytes_copied_user += other.bytes_copied_user;
  bytes_copied_kernel += other.bytes_copied_kernel;
  bytes_ciphered += other.bytes_ciphered;
  bytes_hashed += other.bytes_hashed;
  cpu_user_s += other.cpu_user_s;
  cpu_system_s += other.cpu_system_s;
  wall_s = std::max(wall_s, other.wall_s);
}

JsonRecord TransferLedger::record(std::string_view bench) const {
  JsonRecord r = bench_record(bench, method, bytes);
  r.add("bytes_per_s", bytes_per_s())
      .add("cpu_s_per_gb", cpu_s_per_gb())
      .add("wall_s", wall_s)
      .add("cpu_user_s", cpu_user_s)
      .add("cpu_system_s", cpu_system_s)
      .add("bytes_zero_copy", bytes_zero_copy)
      .add("bytes_copied", bytes_copied())
      .add("bytes_copied_user", bytes_copied_user)
      .add("bytes_copied_kernel", bytes_copied_kernel)
      .add("bytes_hashed", bytes_hashed);
  if (bytes_ciphered > 0) r.add("bytes_ciphered", bytes_ciphered);
  return r;
}

std::string TransferLedger::summary() const {
  char cpu[64];
  // Per GB only where there is enough of it to say: a few bytes' fixed costs scaled to a gigabyte
  // read as hundreds of thousands of seconds.
  if (bytes >= kMiB) {
    std::snprintf(cpu, sizeof(cpu), "%.2f s, CPU %.3f s/GB", wall_s, cpu_s_per_gb());
  } else {
    std::snprintf(cpu, sizeof(cpu), "%.2f s, CPU %.1f ms", wall_s, cpu_s() * 1e3);
  }
  std::string line = method + ": " + format_bytes(bytes) + " in " + cpu + " (" +
                     format_rate(bytes_per_s()) + "), " + format_bytes(bytes_zero_copy) +
                     " zero-copy, copied " + format_bytes(bytes_copied_user) +
                     " in user space and " + format_bytes(bytes_copied_kernel) + " in the kernel";
  if (bytes_ciphered > 0) line += ", " + format_bytes(bytes_ciphered) + " through the cipher";
  if (bytes_hashed > 0) line += ", " + format_bytes(bytes_hashed) + " hashed";
  return line;
}

CpuStopwatch::CpuStopwatch(Scope scope) noexcept
    : scope_(scope), wall_start_(std::chrono::steady_clock::now()), cpu_start_(now_cpu()) {}

CpuTime CpuStopwatch::now_cpu() const noexcept {
  return scope_ == Scope::process ? process_cpu_time() : thread_cpu_time();
}

double CpuStopwatch::wall_s() const noexcept {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
}

CpuTime CpuStopwatch::cpu() const noexcept {
  const CpuTime now = now_cpu();
  return {.user_s = now.user_s - cpu_start_.user_s, .system_s = now.system_s - cpu_start_.system_s};
}

void CpuStopwatch::stop_into(TransferLedger& ledger) const noexcept {
  const CpuTime used = cpu();
  ledger.wall_s = wall_s();
  ledger.cpu_user_s = used.user_s;
  ledger.cpu_system_s = used.system_s;
}

}  // namespace zc
