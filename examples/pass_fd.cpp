// pass_fd: a child process creates a memfd, writes into it, and hands it to its parent over a
// Unix socket; the parent checks who sent it and reads the child's bytes through its own mapping.
// The same steps, with a named listener instead of a socketpair, are how a zcopy channel's
// creator shares its memory with subscribers.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <span>
#include <string_view>

#include "zcopy/core/fd_passing.hpp"

namespace {

constexpr std::size_t kSize = 4096;

// Child: share one page of memory with whoever is at the other end of `socket`.
int share_a_page(zc::UnixSocket& socket) {
  zc::Fd memfd = zc::Fd::adopt(::memfd_create("pass_fd-example", MFD_CLOEXEC));
  if (!memfd || ::ftruncate(memfd.get(), kSize) != 0) return 1;
  void* page = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, memfd.get(), 0);
  if (page == MAP_FAILED) return 1;
  std::snprintf(static_cast<char*>(page), kSize, "hello from pid %d", static_cast<int>(::getpid()));
  ::munmap(page, kSize);

  const std::string_view label = "one page";
  const int fds[] = {memfd.get()};
  auto sent = socket.send(std::as_bytes(std::span(label)), fds);
  if (!sent) std::fprintf(stderr, "child: %s\n", sent.error().message().c_str());
  return sent ? 0 : 1;
}

}  // namespace

int main() {
  auto sockets = zc::UnixSocket::pair();
  if (!sockets) {
    std::fprintf(stderr, "%s\n", sockets.error().message().c_str());
    return 1;
  }
  const pid_t child = ::fork();
  if (child < 0) return 1;
  if (child == 0) ::_exit(share_a_page(sockets->second));

  // Accept descriptors only from our own user: the default policy.
  auto message = sockets->first.receive(zc::PeerPolicy{});
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!message) {
    std::fprintf(stderr, "receive: %s\n", message.error().message().c_str());
    return 1;
  }
  if (message->fds.size() != 1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;

  void* page = ::mmap(nullptr, kSize, PROT_READ, MAP_SHARED, message->fds[0].get(), 0);
  if (page == MAP_FAILED) return 1;
  std::printf("received '%.*s' with fd %d from pid %d (uid %u): \"%s\"\n",
              static_cast<int>(message->payload.size()),
              reinterpret_cast<const char*>(message->payload.data()), message->fds[0].get(),
              static_cast<int>(message->sender.pid), static_cast<unsigned>(message->sender.uid),
              static_cast<const char*>(page));
  const bool from_child = message->sender.pid == child;
  ::munmap(page, kSize);
  return from_child ? 0 : 1;
}
