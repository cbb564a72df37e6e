#include "tls_connection.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "zcopy/core/syscall.hpp"
#include "zcopy/mem/mapped_read_guard.hpp"

namespace zc::http {
namespace {

constexpr std::size_t kRecordBytes = secure::kMaxPlaintext + secure::kRecordOverhead;
// Slots of 15 full records (about 240 KiB): big enough that a zero-copy send pays, few enough
// that a connection pins under a MiB.
constexpr std::size_t kRecordsPerSlot = 15;
constexpr std::size_t kSlotBytes = kRecordsPerSlot * kRecordBytes;
constexpr std::size_t kSlots = 4;
constexpr std::size_t kPlainBytes = 64 * 1024;

std::size_t page_size() {
  static const auto size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

}  // namespace

void TlsConnectionDelete::operator()(TlsConnection* tls) const noexcept {
  delete tls;
}

Result<FileMapping> FileMapping::map(int fd, std::uint64_t first, std::uint64_t end) {
  const std::uint64_t base = first - first % page_size();
  const auto length = static_cast<std::size_t>(end - base);
  void* data = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(base));
  if (data == MAP_FAILED) return std::unexpected(Error::from_errno(errno, "mmap(file)"));
  ::madvise(data, length, MADV_SEQUENTIAL);
  return FileMapping(static_cast<std::byte*>(data), length, base);
}

FileMapping::FileMapping(FileMapping&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      length_(std::exchange(other.length_, 0)),
      base_(other.base_) {}

FileMapping& FileMapping::operator=(FileMapping&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(data_, length_);
    data_ = std::exchange(other.data_, nullptr);
    length_ = std::exchange(other.length_, 0);
    base_ = other.base_;
  }
  return *this;
}

FileMapping::~FileMapping() {
  if (data_ != nullptr) ::munmap(data_, length_);
}

std::span<const std::byte> FileMapping::at(std::uint64_t offset, std::size_t size) const noexcept {
  return {data_ + (offset - base_), size};
}

Result<std::unique_ptr<TlsConnection, TlsConnectionDelete>> TlsConnection::accept(
    const secure::ServerContext& context, int fd) {
  auto session = context.accept(fd);
  if (!session) return std::unexpected(session.error());
  return std::unique_ptr<TlsConnection, TlsConnectionDelete>(
      new TlsConnection(fd, std::move(*session)));
}

TlsConnection::~TlsConnection() {
  close(false);
}

void TlsConnection::close(bool graceful) noexcept {
  if (graceful) session_.close_notify();
  // A peer that stopped reading may never acknowledge what is in flight; waiting for it would
  // hold the loop. The slots are unmapped with the connection and never written again.
  if (sender_) {
    (void)sender_->poll();
    account_sender();
    sender_->abandon();
    sender_.reset();
  }
}

Result<bool> TlsConnection::read_into(std::string& in, std::size_t limit) {
  // Completions arrive on the socket's error queue and make it ready; take them here too, or a
  // level-triggered loop would wake for them again and again.
  if (sender_) {
    if (auto polled = sender_->poll(); !polled) return std::unexpected(polled.error());
    account_sender();
  }
  while (in.size() < limit) {
    auto data = session_.read();
    if (!data) {
      if (data.error().sys_errno() == EAGAIN || data.error().sys_errno() == EWOULDBLOCK)
        return true;
      return std::unexpected(data.error());
    }
    if (data->empty()) return false;
    in.append(reinterpret_cast<const char*>(data->data()), data->size());
  }
  return true;
}

Result<net::SendTurn> TlsConnection::send(Connection& c, net::CopyCounters& counters,
                                          std::size_t budget) {
  waiting_ = false;
  counters_ = &counters;
  auto turn = session_.record_writer() != nullptr ? send_records(c, counters, budget)
                                                  : send_by_ssl_write(c, counters, budget);
  if (!turn || *turn != net::SendTurn::blocked) {
    mapping_.reset();  // the next response may be another file under the same descriptor number
    plain_begin_ = plain_end_ = 0;
  }
  return turn;
}

Result<void> TlsConnection::prepare_sender() {
  if (sender_) return {};
  if (!slots_) {
    // Pinned, so the cipher never faults on it and the zero-copy sends find it resident; without
    // memlock room it still works unpinned.
    auto region = Region::create_anonymous(kSlots * kSlotBytes, {.pin = true});
    if (!region) region = Region::create_anonymous(kSlots * kSlotBytes);
    if (!region) return std::unexpected(region.error());
    slots_.emplace(std::move(*region));
    slot_busy_.assign(kSlots, false);
  }
  auto sender = net::ZeroCopySender::create(fd_, {.method = net::SendMethod::automatic});
  if (!sender) return std::unexpected(sender.error());
  sender_.emplace(std::move(*sender));
  return {};
}

std::size_t TlsConnection::socket_room() const noexcept {
  int buffer = 0;
  socklen_t length = sizeof buffer;
  int queued = 0;
  if (::getsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &buffer, &length) != 0 ||
      ::ioctl(fd_, SIOCOUTQ, &queued) != 0)
    return kRecordBytes;
  // SO_SNDBUF reports twice the payload room (the kernel's bookkeeping half); be conservative.
  const auto room = static_cast<std::int64_t>(buffer) / 2 - queued;
  return room > 0 ? static_cast<std::size_t>(room) : 0;
}

void TlsConnection::account_sender() noexcept {
  if (!sender_ || counters_ == nullptr) return;
  net::CopyCounters& counters = *counters_;
  // What the kernel did with the records is known once their sends completed; counted in
  // record bytes (headers and tags included).
  const net::SenderStats stats = sender_->stats();
  const std::uint64_t copied = stats.bytes_kernel_copied + stats.bytes_copy_sent;
  counters.zero_copy.fetch_add(stats.bytes_zero_copy - accounted_zero_copy_,
                               std::memory_order_relaxed);
  counters.copied_kernel.fetch_add(copied - accounted_copied_, std::memory_order_relaxed);
  accounted_zero_copy_ = stats.bytes_zero_copy;
  accounted_copied_ = copied;
}

Result<net::SendTurn> TlsConnection::send_records(Connection& c, net::CopyCounters& counters,
                                                  std::size_t budget) {
  if (auto ready = prepare_sender(); !ready) return std::unexpected(ready.error());
  secure::RecordWriter& writer = *session_.record_writer();
  net::FileSend& t = c.response.transfer;
  std::size_t spent = 0;
  for (;;) {
    if (t.head_sent == t.head.size() && t.offset >= t.end) {
      account_sender();
      return net::SendTurn::done;
    }
    if (auto polled = sender_->poll(); !polled) return std::unexpected(polled.error());
    const auto free_slot = std::find(slot_busy_.begin(), slot_busy_.end(), false);
    if (free_slot == slot_busy_.end()) {
      account_sender();
      waiting_ = true;
      return net::SendTurn::blocked;
    }
    const std::size_t room = socket_room();
    if (spent > 0 && (spent >= budget || room < kRecordBytes)) {
      account_sender();
      return net::SendTurn::blocked;
    }
    // At least one record, so a ready socket always moves on.
    const std::size_t fill = std::clamp(room, kRecordBytes, kSlotBytes);
    if (t.offset < t.end && t.file) {
      // A file that shrank since it was opened would fault its mapping: look before each slot.
      struct stat st {};
      if (::fstat(t.file.get(), &st) != 0)
        return std::unexpected(Error::from_errno(errno, "fstat(file)"));
      if (static_cast<std::uint64_t>(st.st_size) < t.end) return net::SendTurn::truncated;
      if (!mapping_ || !mapping_->covers(t.offset, t.end)) {
        auto mapped = FileMapping::map(t.file.get(), t.offset, t.end);
        if (!mapped) return std::unexpected(mapped.error());
        mapping_.emplace(std::move(*mapped));
      }
    }
    const auto index = static_cast<std::size_t>(free_slot - slot_busy_.begin());
    std::span<std::byte> slot = slots_->bytes().subspan(index * kSlotBytes, kSlotBytes);
    std::size_t used = 0;
    std::uint64_t file_bytes = 0;
    while (used + kRecordBytes <= fill) {
      std::span<const std::byte> content;
      if (t.head_sent < t.head.size()) {
        const std::size_t n = std::min(t.head.size() - t.head_sent, secure::kMaxPlaintext);
        content = std::as_bytes(std::span(t.head)).subspan(t.head_sent, n);
        t.head_sent += n;
      } else if (t.offset < t.end) {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(t.end - t.offset, secure::kMaxPlaintext));
        content = mapping_->at(t.offset, n);
        t.offset += n;
        t.file_sent += n;
        file_bytes += n;
      } else {
        break;
      }
      // The file can still shrink after the fstat above: a read of a page past its new end
      // faults (SIGBUS) and ends only this connection. Jumping out of the cipher mid-record is
      // safe: the frames it leaves hold no allocation or lock (an AES-GCM or ChaCha20-Poly1305
      // EVP update allocates nothing), and the half-sealed record, the writer's sequence and
      // the cipher context are never used again, as a truncated response drops the connection.
      std::optional<Result<secure::SealedRecord>> sealed;
      auto read = read_guarded(content, [&] {
        sealed.emplace(
            writer.seal_from(content, slot.subspan(used), secure::ContentType::application_data));
      });
      if (!read) return net::SendTurn::truncated;
      if (!*sealed) return std::unexpected(sealed->error());
      used += (*sealed)->bytes.size();
    }
    slot_busy_[index] = true;
    auto ticket = sender_->send(slot.first(used), [this, index] { slot_busy_[index] = false; });
    if (!ticket) return std::unexpected(ticket.error());
    counters.bytes.fetch_add(file_bytes, std::memory_order_relaxed);
    counters.ciphered.fetch_add(file_bytes, std::memory_order_relaxed);
    spent += used;
  }
}

Result<net::SendTurn> TlsConnection::send_by_ssl_write(Connection& c, net::CopyCounters& counters,
                                                       std::size_t budget) {
  net::FileSend& t = c.response.transfer;
  std::size_t spent = 0;
  while (spent < budget) {
    if (t.head_sent < t.head.size()) {
      auto n = session_.write_some(std::as_bytes(std::span(t.head)).subspan(t.head_sent));
      if (!n) return std::unexpected(n.error());
      if (*n == 0) return net::SendTurn::blocked;
      t.head_sent += *n;
      spent += *n;
      continue;
    }
    if (plain_begin_ == plain_end_) {
      if (t.offset >= t.end) return net::SendTurn::done;
      if (plain_.empty()) plain_.resize(kPlainBytes);
      const auto want =
          static_cast<std::size_t>(std::min<std::uint64_t>(t.end - t.offset, plain_.size()));
      auto got = sys_call({"pread", t.file.get()}, [&] {
        return ::pread(t.file.get(), plain_.data(), want, static_cast<off_t>(t.offset));
      });
      if (!got) return std::unexpected(got.error());
      if (*got == 0) return net::SendTurn::truncated;
      plain_begin_ = 0;
      plain_end_ = static_cast<std::size_t>(*got);
      t.offset += plain_end_;
      counters.copied_kernel.fetch_add(plain_end_, std::memory_order_relaxed);  // pread
    }
    auto n =
        session_.write_some(std::span(plain_).subspan(plain_begin_, plain_end_ - plain_begin_));
    if (!n) return std::unexpected(n.error());
    if (*n == 0) return net::SendTurn::blocked;
    plain_begin_ += *n;
    t.file_sent += *n;
    spent += *n;
    counters.bytes.fetch_add(*n, std::memory_order_relaxed);
    counters.ciphered.fetch_add(*n, std::memory_order_relaxed);
    counters.copied_kernel.fetch_add(*n, std::memory_order_relaxed);  // send: records into skbs
  }
  return net::SendTurn::blocked;
}

}  // namespace zc::http
