#include "zcopy/mem/mapped_read_guard.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <thread>

#include "support/child_process.hpp"
#include "support/sanitizer.hpp"
#include "zcopy/core/fd.hpp"

namespace {

std::size_t page_size() {
  return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

// A file of `pages` pages of 0x5a, mapped shared and read-only, as a served file is.
class MappedFile {
 public:
  explicit MappedFile(std::size_t pages) : size_(pages * page_size()) {
    fd_ = zc::Fd::adopt(::memfd_create("mapped-read-guard", MFD_CLOEXEC));
    if (!fd_) return;
    std::vector<std::byte> fill(size_, std::byte{0x5a});
    if (::write(fd_.get(), fill.data(), size_) != static_cast<ssize_t>(size_)) return;
    void* raw = ::mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd_.get(), 0);
    if (raw != MAP_FAILED) data_ = static_cast<const std::byte*>(raw);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile() {
    if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
  }
  bool ok() const { return data_ != nullptr; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  bool truncate() { return ::ftruncate(fd_.get(), 0) == 0; }

 private:
  std::size_t size_;
  zc::Fd fd_;
  const std::byte* data_ = nullptr;
};

// Sums every byte, as a cipher reads its input; volatile so the reads are not elided.
std::uint64_t sum(std::span<const std::byte> bytes) {
  const volatile std::byte* p = bytes.data();
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) total += std::to_integer<std::uint8_t>(p[i]);
  return total;
}

// A child that died of SIGBUS; under a sanitizer, whose SIGBUS handler runs behind the guard's,
// one that it ended with its "BUS" report (AddressSanitizer's exit code 1, ThreadSanitizer's
// 66, or SIGABRT with abort_on_error=1).
void expect_died_of_sigbus(int status) {
  if (zc::test::kSanitized && (status == 1 || status == 66 || status == 128 + SIGABRT)) return;
  EXPECT_EQ(status, 128 + SIGBUS);
}

TEST(MappedReadGuard, ReadsAFileThatKeepsItsSize) {
  MappedFile file(4);
  ASSERT_TRUE(file.ok());
  std::uint64_t total = 0;
  auto read = zc::read_guarded(file.bytes(), [&] { total = sum(file.bytes()); });
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(total, 0x5aU * file.bytes().size());
}

TEST(MappedReadGuard, TurnsTheFaultOfATruncatedFileIntoAnError) {
  MappedFile file(4);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(file.truncate());
  bool finished = false;
  auto read = zc::read_guarded(file.bytes(), [&] {
    sum(file.bytes());
    finished = true;
  });
  ASSERT_FALSE(read);
  EXPECT_FALSE(finished);
  EXPECT_EQ(read.error().sys_errno(), EFAULT);
  EXPECT_NE(read.error().message().find("shrank"), std::string::npos) << read.error().message();
  // The thread goes on: SIGBUS is unblocked again and a second fault is caught as well.
  EXPECT_FALSE(zc::read_guarded(file.bytes(), [&] { sum(file.bytes()); }));
}

TEST(MappedReadGuard, LetsAFaultOutsideTheDeclaredRangeKillTheProcess) {
  const int status = zc::test::run_in_child([] {
    MappedFile file(2);
    MappedFile other(2);
    if (!file.ok() || !other.ok() || !file.truncate()) return 2;
    // Declares `other`, faults on `file`: not the guard's fault to catch.
    auto read = zc::read_guarded(other.bytes(), [&] { sum(file.bytes()); });
    return read ? 3 : 4;  // survived
  });
  expect_died_of_sigbus(status);
}

TEST(MappedReadGuard, LetsASentSigbusKillTheProcess) {
  const int status = zc::test::run_in_child([] {
    MappedFile file(1);
    if (!file.ok()) return 2;
    // A SIGBUS sent while a guard is active is no fault of its read.
    auto read = zc::read_guarded(file.bytes(), [] { ::raise(SIGBUS); });
    return read ? 3 : 4;
  });
  expect_died_of_sigbus(status);
}

TEST(MappedReadGuard, GuardsReadsOnTwoThreadsAtOnce) {
  MappedFile shrunk(8);
  MappedFile kept(8);
  ASSERT_TRUE(shrunk.ok() && kept.ok());
  ASSERT_TRUE(shrunk.truncate());
  constexpr int kRounds = 200;
  int faults = 0;
  int reads = 0;
  std::thread faulting([&] {
    for (int i = 0; i < kRounds; ++i)
      if (!zc::read_guarded(shrunk.bytes(), [&] { sum(shrunk.bytes()); })) ++faults;
  });
  std::thread reading([&] {
    for (int i = 0; i < kRounds; ++i)
      if (zc::read_guarded(kept.bytes(), [&] { sum(kept.bytes()); })) ++reads;
  });
  faulting.join();
  reading.join();
  EXPECT_EQ(faults, kRounds);
  EXPECT_EQ(reads, kRounds);
}

}  // namespace
