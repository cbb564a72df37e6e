// zcopy/core/transfer_ledger.hpp: what a transfer cost, told honestly.
//
// Every transfer reports its ledger: how many payload bytes it delivered, how many of them moved
// without any CPU touching them (page references handed from the page cache to a socket, say),
// and how many byte copies a CPU made on the way, in user space or in the kernel. A copy counts
// once per pass over the data: a read()/write() loop makes two copies of every byte (kernel to
// user, user to kernel); splice from a socket into a file makes one (the kernel copies the pages
// into the page cache); sendfile makes none on the sending side. Beside it stand wall time and the
// CPU seconds the transfer cost, so a reader can compare CPU seconds per GB across methods.
//
// Whose copy it is: a ledger counts the copies made by its own side's system calls, never its
// peer's, on loopback as over a wire. Loopback delivery itself copies nothing: the sender's skbs
// (whose payload sits in page fragments: page-cache pages after sendfile or splice, pages the
// kernel filled for send()) are queued on the receiving socket as they are. The receiver then
// pays for what it does with them: recv() copies every byte out (a kernel copy in the receiver's
// ledger), while splice from the socket (tcp_splice_read -> skb_splice_bits) hands the fragment
// pages on to the pipe by reference; only an skb's small linear head is copied to a fresh page.
// Measured on loopback against a sendfile sender, the receiver's recv() cost several times the
// CPU of its splice (docs/PERFORMANCE.md, "Whose copy a receive is"). So `serve` does not count a
// loopback receiver's copy, and `get` counts its own: none for the socket -> pipe splice, one for
// recv().
//
//   zc::CpuStopwatch watch;
//   ... transfer ...
//   zc::TransferLedger ledger{.method = "sendfile", .bytes = n, .bytes_zero_copy = n};
//   watch.stop_into(ledger);
//   std::puts(ledger.summary().c_str());
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "zcopy/core/json_record.hpp"

namespace zc {

// CPU time (user and system) of this process or of the calling thread.
struct CpuTime {
  double user_s = 0;
  double system_s = 0;
  double total() const noexcept { return user_s + system_s; }
};
CpuTime process_cpu_time() noexcept;
CpuTime thread_cpu_time() noexcept;

struct TransferLedger {
  std::string method;                     // "sendfile", "splice", "uring", "copy", ...
  std::uint64_t bytes = 0;                // payload bytes delivered
  std::uint64_t bytes_zero_copy = 0;      // moved without a CPU copy
  std::uint64_t bytes_copied_user = 0;    // byte copies made in user space
  std::uint64_t bytes_copied_kernel = 0;  // byte copies made by the kernel (copy_to/from_user,
                                          // page-cache fills from a pipe)
  // Bytes a cipher passed over (TLS: sealed on the way out or opened on the way in). Not a copy:
  // the cipher reads one buffer and writes its output once, but it is a pass over every byte and
  // costs CPU like one, so it stands beside the copies.
  std::uint64_t bytes_ciphered = 0;
  std::uint64_t bytes_hashed = 0;  // bytes a CPU read once to hash them (a checksum pass:
                                   // a read of each byte, not a copy)
  double wall_s = 0;
  double cpu_user_s = 0;
  double cpu_system_s = 0;

  std::uint64_t bytes_copied() const noexcept { return bytes_copied_user + bytes_copied_kernel; }
  double cpu_s() const noexcept { return cpu_user_s + cpu_system_s; }
  // CPU seconds per 10^9 payload bytes; 0 when nothing moved.
  double cpu_s_per_gb() const noexcept;
  double bytes_per_s() const noexcept;

  // Adds another transfer's figures (bytes and CPU add; wall time is the longer of the two, as
  // for transfers that ran side by side).
  void merge(const TransferLedger& other) noexcept;

  // The benchmark record: bench/method/size_bytes plus bytes_per_s, cpu_s_per_gb, wall_s,
  // bytes_zero_copy, bytes_copied (user + kernel), bytes_copied_user, bytes_copied_kernel,
  // bytes_hashed, and bytes_ciphered when a cipher ran.
  JsonRecord record(std::string_view bench) const;
  // One line: "sendfile: 2.0 GiB in 0.81 s (2.5 GiB/s), CPU 0.21 s/GB, 2.0 GiB zero-copy,
  // 0 B copied by user space, 2.0 GiB by the kernel", then ", 2.0 GiB through the cipher" when a
  // cipher ran and ", 2.0 GiB hashed" after a hashing pass.
  std::string summary() const;
};

// Measures wall time and CPU time (of the process, or of the calling thread) from construction.
class CpuStopwatch {
 public:
  enum class Scope { process, thread };
  explicit CpuStopwatch(Scope scope = Scope::process) noexcept;

  double wall_s() const noexcept;
  CpuTime cpu() const noexcept;
  // Writes wall_s, cpu_user_s and cpu_system_s into `ledger`.
  void stop_into(TransferLedger& ledger) const noexcept;

 private:
  CpuTime now_cpu() const noexcept;
  Scope scope_;
  std::chrono::steady_clock::time_point wall_start_;
  CpuTime cpu_start_;
};

}  // namespace zc
