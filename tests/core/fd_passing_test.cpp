#include "zcopy/core/fd_passing.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/support/data.hpp"
#include "support/capability_gate.hpp"
#include "support/child_process.hpp"

namespace zc {
namespace {

constexpr std::size_t kPage = 4096;

std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span(text));
}

std::string text_of(const std::vector<std::byte>& bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// Open descriptors of this process; the directory's own descriptor is counted every time.
int count_open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count;
}

// A shared read-write mapping of a whole page of `fd`, unmapped on destruction.
class SharedPage {
 public:
  explicit SharedPage(int fd)
      : data_(::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) {}
  SharedPage(const SharedPage&) = delete;
  SharedPage& operator=(const SharedPage&) = delete;
  ~SharedPage() {
    if (valid()) ::munmap(data_, kPage);
  }
  bool valid() const { return data_ != MAP_FAILED; }
  char* chars() const { return static_cast<char*>(data_); }

 private:
  void* data_;
};

Fd page_memfd(const char* name) {
  Fd file = Fd::adopt(::memfd_create(name, MFD_CLOEXEC));
  if (file.valid() && ::ftruncate(file.get(), kPage) != 0) file.reset();
  return file;
}

// A child process running `body` concurrently with the test; killed if the test ends first.
// The child must not use gtest assertions: it reports through its exit code.
class ForkedChild {
 public:
  explicit ForkedChild(const std::function<int()>& body) : pid_(test::spawn(body)) {}
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;
  ~ForkedChild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  // The child's exit code, or 128 + the signal that killed it.
  int wait() {
    const int code = test::reap(pid_).value_or(-1);
    pid_ = -1;
    return code;
  }

 private:
  pid_t pid_ = -1;
};

bool readable_within(int fd, int milliseconds) {
  pollfd entry{fd, POLLIN, 0};
  return ::poll(&entry, 1, milliseconds) == 1;
}

// Becomes another user (and group), for good: the identity a hostile local peer would have.
bool become(uid_t uid, gid_t gid) {
  return ::setgroups(0, nullptr) == 0 && ::setgid(gid) == 0 && ::setuid(uid) == 0;
}

std::string unique_abstract_name(const char* what) {
  return "@zcopy/test/" + std::to_string(::getpid()) + "/" + what;
}

TEST(FdPassing, AMemfdFromAChildIsSharedWithTheParentBothWays) {
  auto pair = UnixSocket::pair();
  ASSERT_TRUE(pair.has_value()) << pair.error().message();
  ForkedChild child([&] {
    UnixSocket& socket = pair->second;
    Fd memfd = page_memfd("zcopy-test-child");
    SharedPage page(memfd.get());
    if (!page.valid()) return 10;
    std::strcpy(page.chars(), "from child");
    const int fds[] = {memfd.get()};
    if (!socket.send(bytes_of("memfd"), fds)) return 11;
    auto ack = socket.receive(PeerPolicy{});
    if (!ack || text_of(ack->payload) != "written") return 12;
    return std::strcmp(page.chars() + 100, "from parent") == 0 ? 0 : 13;
  });
  ASSERT_TRUE(child.started());
  { UnixSocket child_end = std::move(pair->second); }  // so the child's exit reads as a close

  auto message = pair->first.receive(PeerPolicy{});
  ASSERT_TRUE(message.has_value()) << message.error().message();
  EXPECT_EQ(text_of(message->payload), "memfd");
  EXPECT_EQ(message->sender.pid, child.pid());
  EXPECT_EQ(message->sender.uid, ::getuid());
  EXPECT_EQ(message->sender.gid, ::getgid());
  ASSERT_EQ(message->fds.size(), 1U);
  EXPECT_TRUE(::fcntl(message->fds[0].get(), F_GETFD) & FD_CLOEXEC);
  SharedPage page(message->fds[0].get());
  ASSERT_TRUE(page.valid());
  EXPECT_STREQ(page.chars(), "from child");
  std::strcpy(page.chars() + 100, "from parent");
  ASSERT_TRUE(pair->first.send(bytes_of("written")).has_value());
  EXPECT_EQ(child.wait(), 0) << "10: mmap, 11: send, 12: no ack, 13: parent's write not seen";
}

TEST(FdPassing, AMemfdFromTheParentIsSharedWithAChildBothWays) {
  auto pair = UnixSocket::pair();
  ASSERT_TRUE(pair.has_value()) << pair.error().message();
  const pid_t parent = ::getpid();
  ForkedChild child([&] {
    UnixSocket& socket = pair->second;
    auto message = socket.receive(PeerPolicy{});
    if (!message || message->fds.size() != 1) return 10;
    if (message->sender.pid != parent) return 11;
    SharedPage page(message->fds[0].get());
    if (!page.valid() || std::strcmp(page.chars(), "from parent") != 0) return 12;
    std::strcpy(page.chars() + 100, "from child");
    return socket.send(bytes_of("written")) ? 0 : 13;
  });
  ASSERT_TRUE(child.started());
  { UnixSocket child_end = std::move(pair->second); }

  // Created after the fork, so the child can only reach it through the message.
  Fd memfd = page_memfd("zcopy-test-parent");
  ASSERT_TRUE(memfd.valid());
  SharedPage page(memfd.get());
  ASSERT_TRUE(page.valid());
  std::strcpy(page.chars(), "from parent");
  const int fds[] = {memfd.get()};
  ASSERT_TRUE(pair->first.send(bytes_of("memfd"), fds).has_value());
  auto ack = pair->first.receive(PeerPolicy{});
  ASSERT_TRUE(ack.has_value()) << ack.error().message();
  EXPECT_EQ(text_of(ack->payload), "written");
  EXPECT_STREQ(page.chars() + 100, "from child");
  EXPECT_EQ(child.wait(), 0) << "10: no fd, 11: wrong sender pid, 12: bad page, 13: send";
}

TEST(FdPassing, DescriptorsFromAnotherUserAreRejectedAndClosed) {
  ZC_REQUIRE_ROOT("to setuid a child");
  const std::string address = unique_abstract_name("other-user");
  auto listener = UnixListener::listen(address);
  ASSERT_TRUE(listener.has_value()) << listener.error().message();
  ForkedChild child([&] {
    if (!become(65534, 65534)) return 10;
    auto socket = UnixSocket::connect(address);
    if (!socket) return 11;
    const Fd a = page_memfd("zcopy-test-a"), b = page_memfd("zcopy-test-b");
    const int fds[] = {a.get(), b.get(), a.get()};
    if (!socket->send(bytes_of("take these"), fds)) return 12;
    // Stay alive until the parent is done, so our pid is still ours when it looks.
    auto end = socket->receive(PeerPolicy{});
    return !end && end.error().code() == Errc::closed ? 0 : 13;
  });
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(readable_within(listener->fd(), 10000)) << "the child never connected";
  auto peer = listener->accept();
  ASSERT_TRUE(peer.has_value()) << peer.error().message();

  const int before = count_open_fds();
  auto message = peer->receive(PeerPolicy{});
  const int after = count_open_fds();
  ASSERT_FALSE(message.has_value());
  EXPECT_EQ(message.error().code(), Errc::rejected);
  const std::string expected = "peer pid " + std::to_string(child.pid()) +
                               " uid 65534 gid 65534 is not allowed (expects uid " +
                               std::to_string(::geteuid()) + ")";
  EXPECT_NE(message.error().message().find(expected), std::string::npos)
      << message.error().message();
  EXPECT_EQ(after, before) << "the rejected message's descriptors leaked";
  { UnixSocket closing = std::move(*peer); }
  EXPECT_EQ(child.wait(), 0) << "10: setuid, 11: connect, 12: send, 13: no close seen";
}

TEST(FdPassing, AGroupPolicyAdmitsAPeerWithTheNamedGid) {
  ZC_REQUIRE_ROOT("to setuid a child");
  constexpr gid_t kGroup = 4321;
  const std::string address = unique_abstract_name("group");
  auto listener = UnixListener::listen(address);
  ASSERT_TRUE(listener.has_value()) << listener.error().message();
  ForkedChild child([&] {
    if (!become(65534, kGroup)) return 10;
    auto socket = UnixSocket::connect(address);
    if (!socket) return 11;
    const Fd memfd = page_memfd("zcopy-test-group");
    const int fds[] = {memfd.get()};
    if (!socket->send(bytes_of("first"), fds) || !socket->send(bytes_of("second"), fds)) return 12;
    auto end = socket->receive(PeerPolicy{});
    return !end && end.error().code() == Errc::closed ? 0 : 13;
  });
  ASSERT_TRUE(child.started());
  ASSERT_TRUE(readable_within(listener->fd(), 10000)) << "the child never connected";
  auto peer = listener->accept();
  ASSERT_TRUE(peer.has_value()) << peer.error().message();

  auto refused = peer->receive(PeerPolicy{});  // same user only
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Errc::rejected);

  auto admitted = peer->receive(PeerPolicy{.gid = kGroup});
  ASSERT_TRUE(admitted.has_value()) << admitted.error().message();
  EXPECT_EQ(text_of(admitted->payload), "second");
  EXPECT_EQ(admitted->sender.uid, 65534U);
  EXPECT_EQ(admitted->sender.gid, kGroup);
  EXPECT_EQ(admitted->fds.size(), 1U);
  { UnixSocket closing = std::move(*peer); }
  EXPECT_EQ(child.wait(), 0) << "10: setgid/setuid, 11: connect, 12: send, 13: no close seen";
}

TEST(FdPassing, TooManyDescriptorsAreRejectedWithoutLeaking) {
  auto pair = UnixSocket::pair();
  ASSERT_TRUE(pair.has_value());
  Fd memfd = page_memfd("zcopy-test-many");
  ASSERT_TRUE(memfd.valid());
  const std::vector<int> many(kMaxFdsPerMessage + 4, memfd.get());

  // send() refuses to build such a message...
  auto refused = pair->second.send(bytes_of("many"), many);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), Errc::invalid_argument);

  // ...and receive() rejects one built by hand, closing what arrived.
  std::vector<std::byte> control(CMSG_SPACE(sizeof(int) * many.size()));
  char payload = 'm';
  iovec io{&payload, 1};
  msghdr header{};
  header.msg_iov = &io;
  header.msg_iovlen = 1;
  header.msg_control = control.data();
  header.msg_controllen = control.size();
  cmsghdr* rights = CMSG_FIRSTHDR(&header);
  rights->cmsg_level = SOL_SOCKET;
  rights->cmsg_type = SCM_RIGHTS;
  rights->cmsg_len = CMSG_LEN(sizeof(int) * many.size());
  std::memcpy(CMSG_DATA(rights), many.data(), sizeof(int) * many.size());
  ASSERT_EQ(::sendmsg(pair->second.fd(), &header, 0), 1);

  const int before = count_open_fds();
  auto message = pair->first.receive(PeerPolicy{});
  EXPECT_EQ(count_open_fds(), before);
  ASSERT_FALSE(message.has_value());
  EXPECT_EQ(message.error().code(), Errc::rejected);
  EXPECT_NE(message.error().message().find("more than 16 descriptors"), std::string::npos)
      << message.error().message();
}

TEST(FdPassing, AnOversizedPayloadIsRejectedWithItsDescriptors) {
  auto pair = UnixSocket::pair();
  ASSERT_TRUE(pair.has_value());
  Fd memfd = page_memfd("zcopy-test-big");
  const int fds[] = {memfd.get()};
  ASSERT_TRUE(pair->second.send(bytes_of(std::string(100, 'x')), fds).has_value());
  const int before = count_open_fds();
  auto message = pair->first.receive(PeerPolicy{}, 10);
  EXPECT_EQ(count_open_fds(), before);
  ASSERT_FALSE(message.has_value());
  EXPECT_EQ(message.error().code(), Errc::rejected);
}

TEST(FdPassing, AnEmptyMessageIsNotMistakenForTheEnd) {
  auto pair = UnixSocket::pair();
  ASSERT_TRUE(pair.has_value());
  ASSERT_TRUE(pair->second.send({}).has_value());
  auto message = pair->first.receive(PeerPolicy{});
  ASSERT_TRUE(message.has_value()) << message.error().message();
  EXPECT_TRUE(message->payload.empty());
  EXPECT_EQ(message->sender.pid, ::getpid());
}

TEST(FdPassing, APeerThatClosesEndsTheConversation) {
  auto pair = UnixSocket::pair();
  ASSERT_TRUE(pair.has_value());
  ASSERT_TRUE(pair->second.send(bytes_of("last words")).has_value());
  { UnixSocket gone = std::move(pair->second); }

  auto last = pair->first.receive(PeerPolicy{});
  ASSERT_TRUE(last.has_value()) << "a message sent before closing still arrives";
  EXPECT_EQ(text_of(last->payload), "last words");
  auto end = pair->first.receive(PeerPolicy{});
  ASSERT_FALSE(end.has_value());
  EXPECT_EQ(end.error().code(), Errc::closed) << end.error().message();
  auto sent = pair->first.send(bytes_of("anyone?"));
  ASSERT_FALSE(sent.has_value());
  EXPECT_EQ(sent.error().code(), Errc::closed) << sent.error().message();
}

TEST(FdPassing, AFilesystemListenerRemovesItsSocketFileWhenDestroyed) {
  const bench::TempDir directory("zcopy-fd-passing");
  ASSERT_FALSE(directory.path().empty());
  const std::string path = directory / "channel.sock";
  {
    auto listener = UnixListener::listen(path);
    ASSERT_TRUE(listener.has_value()) << listener.error().message();
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_TRUE(S_ISSOCK(info.st_mode));

    auto taken = UnixListener::listen(path);
    ASSERT_FALSE(taken.has_value()) << "a second listener must not replace the first";
    EXPECT_EQ(taken.error().sys_errno(), EADDRINUSE);

    auto client = UnixSocket::connect(path);
    ASSERT_TRUE(client.has_value()) << client.error().message();
    auto server = listener->accept();
    ASSERT_TRUE(server.has_value()) << server.error().message();
    ASSERT_TRUE(client->send(bytes_of("hello")).has_value());
    auto message = server->receive(PeerPolicy{});
    ASSERT_TRUE(message.has_value()) << message.error().message();
    EXPECT_EQ(message->sender.pid, ::getpid());
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << path << " was left behind";
}

TEST(FdPassing, BadAddressesAreRefusedWithTheReason) {
  for (const std::string& bad :
       {std::string(), std::string("@"), std::string(200, 'a'), "@" + std::string(120, 'b')}) {
    auto listener = UnixListener::listen(bad);
    ASSERT_FALSE(listener.has_value()) << bad;
    EXPECT_EQ(listener.error().code(), Errc::invalid_argument);
    auto socket = UnixSocket::connect(bad);
    ASSERT_FALSE(socket.has_value()) << bad;
    EXPECT_EQ(socket.error().code(), Errc::invalid_argument);
  }
  auto nobody = UnixSocket::connect(unique_abstract_name("nobody-listens"));
  ASSERT_FALSE(nobody.has_value());
  EXPECT_EQ(nobody.error().sys_errno(), ECONNREFUSED);
  EXPECT_NE(nobody.error().message().find("nobody-listens"), std::string::npos);
}

}  // namespace
}  // namespace zc
