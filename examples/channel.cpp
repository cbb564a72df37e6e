// channel: one publisher, two subscriber processes, payloads written once and read in place.
//
// The parent publishes a handful of messages into chunks of shared memory; each forked child
// subscribes to the channel by name, prints what it receives straight from the shared (read-only)
// pages, and exits at the end of the stream. Only descriptors travel between the processes.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "zcopy/channel/publisher.hpp"
#include "zcopy/channel/subscriber.hpp"

namespace {

using namespace std::chrono_literals;

int subscribe(const std::string& name, int id) {
  auto subscriber = zc::Subscriber::connect(name, 5s);
  if (!subscriber) {
    std::fprintf(stderr, "subscriber %d: %s\n", id, subscriber.error().message().c_str());
    return 1;
  }
  for (;;) {
    auto sample = subscriber->receive(5s);
    if (!sample) {
      const bool ended = sample.error().code() == zc::Errc::closed;
      std::printf("subscriber %d: %s\n", id, sample.error().message().c_str());
      return ended ? 0 : 1;
    }
    std::printf("subscriber %d: #%llu %.*s\n", id,
                static_cast<unsigned long long>(sample->sequence()),
                static_cast<int>(sample->bytes().size()),
                reinterpret_cast<const char*>(sample->bytes().data()));
  }  // each Sample gives its chunk back as it goes out of scope
}

}  // namespace

int main() {
  const std::string name = "example-" + std::to_string(::getpid());
  auto publisher = zc::Publisher::create(name, {.chunk_size = 256, .chunk_count = 8});
  if (!publisher) {
    std::fprintf(stderr, "channel: %s\n", publisher.error().message().c_str());
    return 1;
  }
  pid_t children[2];
  for (int id = 0; id < 2; ++id) {
    std::fflush(stdout);
    children[id] = ::fork();
    if (children[id] == 0) {
      const int code = subscribe(name, id);
      std::fflush(stdout);
      ::_exit(code);
    }
  }
  if (auto joined = publisher->wait_for_subscribers(2, 5s); !joined) {
    std::fprintf(stderr, "channel: %s\n", joined.error().message().c_str());
    return 1;
  }
  for (int i = 0; i < 5; ++i) {
    auto loan = publisher->loan();
    if (!loan) return 1;
    const std::string text = "price update " + std::to_string(100 + i);
    std::memcpy(loan->bytes().data(), text.data(), text.size());  // written once, in place
    if (!publisher->publish(std::move(*loan), text.size())) return 1;
  }
  publisher->close();
  int failures = 0;
  for (pid_t child : children) {
    int status = 0;
    ::waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  // Their departures (sockets closed) are noticed when the publisher services its channel; each
  // one gives back whatever chunks that subscriber still held.
  for (int i = 0; i < 1000 && publisher->stats().subscribers > 0; ++i) {
    pollfd ready{publisher->fd(), POLLIN, 0};
    ::poll(&ready, 1, 1);
    publisher->service();
  }
  std::printf("published %llu messages; %u of %u chunks free after both left\n",
              static_cast<unsigned long long>(publisher->stats().published),
              publisher->pool().stats().free, publisher->pool().stats().chunk_count);
  return failures == 0 ? 0 : 1;
}
