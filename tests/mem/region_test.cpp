// Region: creating, sharing across processes, seals and read-only enforcement.
#include "zcopy/mem/region.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "support/capability_gate.hpp"
#include "support/child_process.hpp"
#include "zcopy/core/units.hpp"

namespace {

constexpr std::string_view kFromParent = "written by the parent";
constexpr std::string_view kFromChild = "written by the child";

void put(std::span<std::byte> bytes, std::size_t offset, std::string_view text) {
  std::memcpy(bytes.data() + offset, text.data(), text.size());
}

bool holds(std::span<const std::byte> bytes, std::size_t offset, std::string_view text) {
  return std::memcmp(bytes.data() + offset, text.data(), text.size()) == 0;
}

// Plain SCM_RIGHTS, written out here so the test does not depend on the library's fd passing.
bool send_fd(int socket, int fd) {
  char byte = 'F';
  iovec io{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* header = CMSG_FIRSTHDR(&msg);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  return ::sendmsg(socket, &msg, 0) == 1;
}

int receive_fd(int socket) {
  char byte = 0;
  iovec io{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC) != 1) return -1;
  cmsghdr* header = CMSG_FIRSTHDR(&msg);
  if (header == nullptr || header->cmsg_type != SCM_RIGHTS) return -1;
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return fd;
}

// Sanitizers catch SIGSEGV themselves and exit with their own code. Going around their sigaction
// interceptor restores the kernel's default action, so the child dies of the signal itself.
void restore_default_segv() {
  struct {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    std::uint64_t mask;
  } action{SIG_DFL, 0, nullptr, 0};
  ::syscall(SYS_rt_sigaction, SIGSEGV, &action, nullptr, sizeof action.mask);
}

}  // namespace

TEST(Region, AnonymousRegionIsZeroedWritableAndNotShareable) {
  auto region = zc::Region::create_anonymous(10000);
  ASSERT_TRUE(region) << region.error().message();
  EXPECT_GE(region->size(), 10000U);
  EXPECT_FALSE(region->shared());
  EXPECT_EQ(region->fd(), -1);
  for (std::byte b : region->bytes()) ASSERT_EQ(b, std::byte{0});
  region->bytes().back() = std::byte{7};
  EXPECT_EQ(region->bytes().back(), std::byte{7});

  auto fd = region->share(zc::Access::read_only);
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().code(), zc::Errc::invalid_argument);
}

TEST(Region, ZeroSizeIsRefused) {
  auto anonymous = zc::Region::create_anonymous(0);
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code(), zc::Errc::invalid_argument);
  auto shared = zc::Region::create_shared(0);
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().code(), zc::Errc::invalid_argument);
}

TEST(Region, AnonymousRegionIsPrivateToAForkedChild) {
  auto region = zc::Region::create_anonymous(4096);
  ASSERT_TRUE(region) << region.error().message();
  const int status = zc::test::run_in_child([&] {
    put(region->bytes(), 0, kFromChild);
    return holds(region->bytes(), 0, kFromChild) ? 0 : 1;
  });
  EXPECT_EQ(status, 0);
  EXPECT_EQ(region->bytes()[0], std::byte{0})
      << "copy-on-write must keep the child's write private";
}

TEST(Region, SharedRegionWritesAreSeenAcrossProcessesBothWays) {
  int sockets[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
  zc::Fd parent_end = zc::Fd::adopt(sockets[0]);
  zc::Fd child_end = zc::Fd::adopt(sockets[1]);

  // Forked before the region exists: the child can only reach it through the passed descriptor.
  const pid_t pid = zc::test::spawn([&] {
    parent_end.reset();
    const int fd = receive_fd(child_end.get());
    if (fd < 0) return 2;
    auto view = zc::Region::attach(zc::Fd::adopt(fd), zc::Access::read_write);
    if (!view) return 3;
    if (!holds(view->bytes(), 0, kFromParent)) return 4;
    put(view->bytes(), 8192, kFromChild);
    char done = 'D';
    if (::write(child_end.get(), &done, 1) != 1) return 5;
    return 0;
  });
  ASSERT_GE(pid, 0);
  child_end.reset();

  auto region = zc::Region::create_shared(64 * zc::kKiB, {.name = "region-test"});
  ASSERT_TRUE(region) << region.error().message();
  put(region->bytes(), 0, kFromParent);
  auto shared = region->share(zc::Access::read_write);
  ASSERT_TRUE(shared) << shared.error().message();
  ASSERT_TRUE(send_fd(parent_end.get(), shared->get()));
  char done = 0;
  ASSERT_EQ(::read(parent_end.get(), &done, 1), 1);
  EXPECT_TRUE(holds(region->bytes(), 8192, kFromChild));
  EXPECT_EQ(zc::test::reap(pid), 0);
}

TEST(Region, SealsRefuseTruncationThroughCreatorAndPeerDescriptors) {
  auto region = zc::Region::create_shared(64 * zc::kKiB);
  ASSERT_TRUE(region) << region.error().message();
  auto peer_fd = region->share(zc::Access::read_write);
  ASSERT_TRUE(peer_fd) << peer_fd.error().message();
  auto peer = zc::Region::attach(std::move(*peer_fd), zc::Access::read_write);
  ASSERT_TRUE(peer) << peer.error().message();

  for (int fd : {region->fd(), peer->fd()}) {
    errno = 0;
    EXPECT_EQ(::ftruncate(fd, 4096), -1);
    EXPECT_EQ(errno, EPERM) << "shrinking fd " << fd;
    errno = 0;
    EXPECT_EQ(::ftruncate(fd, 1 << 20), -1);
    EXPECT_EQ(errno, EPERM) << "growing fd " << fd;
  }
  EXPECT_EQ(peer->size(), region->size());
}

TEST(Region, AttachRefusesAnUnsealedMemfd) {
  for (unsigned flags : {0U, static_cast<unsigned>(MFD_ALLOW_SEALING)}) {
    zc::Fd fd = zc::Fd::adopt(::memfd_create("unsealed", MFD_CLOEXEC | flags));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::ftruncate(fd.get(), 4096), 0);
    auto view = zc::Region::attach(std::move(fd), zc::Access::read_only);
    ASSERT_FALSE(view);
    EXPECT_EQ(view.error().code(), zc::Errc::rejected);
    EXPECT_NE(view.error().message().find("F_SEAL_SHRINK"), std::string::npos)
        << view.error().message();
  }
}

TEST(Region, AttachRefusesARegularFile) {
  char path[] = "/tmp/zcopy-region-test-XXXXXX";
  zc::Fd fd = zc::Fd::adopt(::mkstemp(path));
  ASSERT_TRUE(fd);
  ::unlink(path);
  ASSERT_EQ(::ftruncate(fd.get(), 4096), 0);
  auto view = zc::Region::attach(std::move(fd), zc::Access::read_only);
  ASSERT_FALSE(view);
  EXPECT_EQ(view.error().code(), zc::Errc::rejected);
  EXPECT_NE(view.error().message().find("not a memfd"), std::string::npos)
      << view.error().message();
}

TEST(Region, ReadOnlyAttachSeesWritesButCannotBeMadeWritable) {
  auto region = zc::Region::create_shared(16 * zc::kKiB);
  ASSERT_TRUE(region) << region.error().message();
  auto fd = region->share(zc::Access::read_only);
  ASSERT_TRUE(fd) << fd.error().message();
  const int raw = fd->get();

  // A writable shared mapping of the read-only descriptor is refused by the kernel...
  errno = 0;
  EXPECT_EQ(::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, raw, 0), MAP_FAILED);
  EXPECT_EQ(errno, EACCES);

  auto view = zc::Region::attach(std::move(*fd), zc::Access::read_only);
  ASSERT_TRUE(view) << view.error().message();
  EXPECT_EQ(view->access(), zc::Access::read_only);
  put(region->bytes(), 100, kFromParent);
  EXPECT_TRUE(holds(view->bytes(), 100, kFromParent));

  // ...and so is upgrading the read-only mapping afterwards.
  errno = 0;
  EXPECT_EQ(::mprotect(view->data(), 4096, PROT_READ | PROT_WRITE), -1);
  EXPECT_EQ(errno, EACCES);

  const int status = zc::test::run_in_child([&] {
    restore_default_segv();
    view->bytes()[0] = std::byte{1};
    return 0;
  });
  EXPECT_EQ(status, 128 + SIGSEGV);
  EXPECT_EQ(region->bytes()[0], std::byte{0});
}

TEST(Region, ReadWriteAttachOfAReadOnlyShareIsRejected) {
  auto region = zc::Region::create_shared(4096);
  ASSERT_TRUE(region) << region.error().message();
  auto fd = region->share(zc::Access::read_only);
  ASSERT_TRUE(fd) << fd.error().message();
  auto view = zc::Region::attach(std::move(*fd), zc::Access::read_write);
  ASSERT_FALSE(view);
  EXPECT_EQ(view.error().code(), zc::Errc::rejected);
  EXPECT_NE(view.error().message().find("read-only"), std::string::npos) << view.error().message();
}

TEST(Region, ReadOnlyRegionCanOnlyBeSharedReadOnly) {
  auto region = zc::Region::create_shared(4096);
  ASSERT_TRUE(region) << region.error().message();
  auto fd = region->share(zc::Access::read_only);
  ASSERT_TRUE(fd) << fd.error().message();
  auto view = zc::Region::attach(std::move(*fd), zc::Access::read_only);
  ASSERT_TRUE(view) << view.error().message();

  auto writable = view->share(zc::Access::read_write);
  ASSERT_FALSE(writable);
  EXPECT_EQ(writable.error().code(), zc::Errc::rejected);
  auto readable = view->share(zc::Access::read_only);
  ASSERT_TRUE(readable) << readable.error().message();
  EXPECT_TRUE(zc::Region::attach(std::move(*readable), zc::Access::read_only));
}

TEST(Region, ReadOnlyShareCannotBeReopenedWritableByAnotherUser) {
  ZC_REQUIRE_ROOT("to switch to another user");
  auto region = zc::Region::create_shared(4096);
  ASSERT_TRUE(region) << region.error().message();
  auto fd = region->share(zc::Access::read_only);
  ASSERT_TRUE(fd) << fd.error().message();
  const std::string path = "/proc/self/fd/" + std::to_string(fd->get());

  const int status = zc::test::run_in_child([&] {
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) return 2;
    const int readable = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (readable < 0) return 3;  // the path works; only writing must be refused
    const int writable = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (writable >= 0) return 4;
    return errno == EACCES ? 0 : 5;
  });
  EXPECT_EQ(status, 0);
}

TEST(Region, ReadOnlyShareHoldsEvenAgainstAPeerOfTheSameUser) {
  auto region = zc::Region::create_shared(4096);
  ASSERT_TRUE(region) << region.error().message();
  auto fd = region->share(zc::Access::read_only);
  ASSERT_TRUE(fd) << fd.error().message();
  const std::string path = "/proc/self/fd/" + std::to_string(fd->get());

  // The peer stays our user (root here) and reopens its descriptor for writing, which the file
  // mode cannot stop; the seal must still refuse every writable mapping and every write.
  const int status = zc::test::run_in_child([&] {
    const int reopened = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (reopened < 0) return 0;  // refused outright: also safe
    void* mapping = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, reopened, 0);
    if (mapping != MAP_FAILED) return 2;
    const char byte = 'x';
    if (::pwrite(reopened, &byte, 1, 0) != -1) return 3;
    return 0;
  });
  EXPECT_EQ(status, 0);
  region->bytes()[0] = std::byte{7};  // our own mapping stays writable
  EXPECT_EQ(region->bytes()[0], std::byte{7});
}

TEST(Region, ReadWriteShareIsRefusedOnceTheRegionWasSharedReadOnly) {
  auto region = zc::Region::create_shared(4096);
  ASSERT_TRUE(region) << region.error().message();
  ASSERT_TRUE(region->share(zc::Access::read_write)) << "before any read-only share it works";
  ASSERT_TRUE(region->share(zc::Access::read_only));
  auto writable = region->share(zc::Access::read_write);
  ASSERT_FALSE(writable);
  EXPECT_EQ(writable.error().code(), zc::Errc::rejected);
  EXPECT_NE(writable.error().message().find("sealed"), std::string::npos)
      << writable.error().message();
}

TEST(Region, SealFutureWritesRefusesNewWritableMappingsButKeepsOurs) {
  auto region = zc::Region::create_shared(16 * zc::kKiB);
  ASSERT_TRUE(region) << region.error().message();
  // A peer that was given a writable descriptor before the seal.
  auto early = region->share(zc::Access::read_write);
  ASSERT_TRUE(early) << early.error().message();
  auto late = region->share(zc::Access::read_write);
  ASSERT_TRUE(late) << late.error().message();

  ASSERT_TRUE(region->seal_future_writes());

  errno = 0;
  EXPECT_EQ(::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, early->get(), 0), MAP_FAILED);
  EXPECT_EQ(errno, EPERM);
  auto writer = zc::Region::attach(std::move(*late), zc::Access::read_write);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code(), zc::Errc::rejected);
  EXPECT_NE(writer.error().message().find("F_SEAL_FUTURE_WRITE"), std::string::npos)
      << writer.error().message();

  put(region->bytes(), 0, kFromParent);
  auto reader = zc::Region::attach(std::move(*early), zc::Access::read_only);
  ASSERT_TRUE(reader) << reader.error().message();
  EXPECT_TRUE(holds(reader->bytes(), 0, kFromParent));
  errno = 0;
  EXPECT_EQ(::mprotect(reader->data(), 4096, PROT_READ | PROT_WRITE), -1);
}

TEST(Region, MoveTransfersTheMapping) {
  auto created = zc::Region::create_shared(4096);
  ASSERT_TRUE(created) << created.error().message();
  std::byte* data = created->data();
  const int fd = created->fd();
  zc::Region moved = std::move(*created);
  EXPECT_EQ(moved.data(), data);
  EXPECT_EQ(moved.fd(), fd);
  EXPECT_EQ(created->data(),
            nullptr);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_FALSE(created->shared());  // NOLINT(bugprone-use-after-move)

  auto other = zc::Region::create_anonymous(4096);
  ASSERT_TRUE(other) << other.error().message();
  moved = std::move(*other);
  EXPECT_FALSE(moved.shared());
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "the replaced region's memfd must be closed";
  moved.bytes()[0] = std::byte{3};
}
