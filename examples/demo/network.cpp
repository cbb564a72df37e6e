// `zcopy demo` section 9: a generated file served by `zcopy serve` on loopback and fetched by
// `zcopy get`, by every client method and by every server method, each copy checked byte-exact,
// with both sides' ledgers in one table.
//
// The server runs in a child process so that each side's CPU time is its own: the parent asks the
// child for a ledger snapshot before and after every transfer over a pipe and shows the difference.
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "bench/support/table.hpp"
#include "examples/demo/sections.hpp"
#include "zcopy/core/capabilities.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/syscall.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/client/download.hpp"
#include "zcopy/http/server/server.hpp"

namespace zc::demo {
namespace {

using bench::Table;

// What the server child reports per snapshot: plain numbers, so it can cross a pipe as bytes.
struct ServerSnapshot {
  std::uint64_t bytes = 0;
  std::uint64_t zero_copy = 0;
  std::uint64_t copied_user = 0;
  std::uint64_t copied_kernel = 0;
  double cpu_user_s = 0;
  double cpu_system_s = 0;
};

bool write_all(int fd, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, void* data, std::size_t size) {
  char* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// The server child: starts a Server on 127.0.0.1 port 0, writes its port (0 and an error line on
// failure), then answers each 's' on `commands` with a snapshot until the pipe closes.
int serve_child(const std::string& root, net::FileSendMethod method, int commands, int replies) {
  http::ServerOptions options{.root = root};
  options.bind = {"127.0.0.1", 0};
  options.method = method;
  options.threads = 1;
  options.access_log_fd = -1;
  auto server = http::Server::start(options);
  if (!server) {
    const std::uint16_t none = 0;
    const std::string why = server.error().message();
    const std::uint32_t length = static_cast<std::uint32_t>(why.size());
    write_all(replies, &none, sizeof none);
    write_all(replies, &length, sizeof length);
    write_all(replies, why.data(), why.size());
    return 0;
  }
  const std::uint16_t port = (*server)->port();
  if (!write_all(replies, &port, sizeof port)) return 1;
  char command = 0;
  while (read_all(commands, &command, 1) && command == 's') {
    const TransferLedger l = (*server)->ledger();
    const ServerSnapshot s{
        l.bytes,      l.bytes_zero_copy, l.bytes_copied_user, l.bytes_copied_kernel,
        l.cpu_user_s, l.cpu_system_s};
    if (!write_all(replies, &s, sizeof s)) return 1;
  }
  (*server)->stop();
  return 0;
}

// A word-wise hash of a whole file: enough to tell a wrong copy from the original.
Result<std::uint64_t> file_hash(const std::string& path, std::vector<std::uint64_t>& buffer) {
  auto fd = Fd::open(path, O_RDONLY);
  if (!fd) return std::unexpected(fd.error());
  std::uint64_t h = 0x9E3779B97F4A7C15ULL;
  std::uint64_t total = 0;
  for (;;) {
    auto n = sys_call({"read", fd->get()}, [&] {
      return ::read(fd->get(), buffer.data(), buffer.size() * sizeof(std::uint64_t));
    });
    if (!n) return std::unexpected(n.error());
    if (*n == 0) break;
    // Sizes are whole MiB, so every read but a short last one is a whole number of words.
    const std::size_t words = static_cast<std::size_t>(*n) / sizeof(std::uint64_t);
    for (std::size_t i = 0; i < words; ++i) h = (h ^ buffer[i]) * 0x100000001B3ULL + (h >> 29);
    total += static_cast<std::uint64_t>(*n);
  }
  return h ^ total;
}

std::string gb_figure(double cpu_s, std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f",
                bytes == 0 ? 0.0 : cpu_s / (static_cast<double>(bytes) / 1e9));
  return text;
}

std::string copies(std::uint64_t zero_copy, std::uint64_t user, std::uint64_t kernel) {
  return format_bytes(zero_copy) + " / " + format_bytes(user) + " / " + format_bytes(kernel);
}

struct Transfer {
  net::FileSendMethod server;
  net::ReceiveMethod client;
};

}  // namespace

Result<void> demo_network(const DemoSettings& settings) {
  demo_heading(9, "zcopy serve and zcopy get over loopback HTTP",
               "The server sends file pages by reference (sendfile or splice); the client "
               "splices the socket into\n   the file. 'copy' on either side is the classic "
               "read/write loop, for comparison.");
  for (Capability needed : {Capability::sendfile, Capability::splice}) {
    if (const Probe& p = probe(needed); !p.available) {
      std::printf("   skipped: needs %s: %s\n", std::string(name(needed)).c_str(),
                  p.detail.c_str());
      return {};
    }
  }
  const bool uring = probe(Capability::io_uring_splice).available;
  // Whole MiB (the hash reads words), at least one.
  const std::uint64_t size = std::max<std::uint64_t>(kMiB, settings.size_bytes / kMiB * kMiB);

  auto scratch = bench::TempDir::create("zcopy-demo-network");
  if (!scratch) return std::unexpected(scratch.error());
  const std::string root = *scratch / "www";
  std::filesystem::create_directory(root);
  if (auto made = bench::write_random_file(root + "/data.bin", size); !made) return made;
  std::vector<std::uint64_t> buffer(kMiB / sizeof(std::uint64_t));
  auto original = file_hash(root + "/data.bin", buffer);
  if (!original) return std::unexpected(original.error());

  // Every client method against sendfile, then every other server method against splice: each
  // method of each side appears at least once without running the whole cross product.
  std::vector<Transfer> transfers = {{net::FileSendMethod::sendfile, net::ReceiveMethod::splice},
                                     {net::FileSendMethod::sendfile, net::ReceiveMethod::uring},
                                     {net::FileSendMethod::sendfile, net::ReceiveMethod::copy},
                                     {net::FileSendMethod::splice, net::ReceiveMethod::splice},
                                     {net::FileSendMethod::uring, net::ReceiveMethod::splice},
                                     {net::FileSendMethod::copy, net::ReceiveMethod::splice},
                                     {net::FileSendMethod::copy, net::ReceiveMethod::copy}};
  if (!uring) {
    std::erase_if(transfers, [](const Transfer& t) {
      return t.server == net::FileSendMethod::uring || t.client == net::ReceiveMethod::uring;
    });
  }

  Table table({"serve -> get", "rate", "serve CPU s/GB", "serve zero-copy / user / kernel",
               "get CPU s/GB", "get zero-copy / user / kernel"});
  for (std::size_t i = 0; i < transfers.size();) {
    const net::FileSendMethod server_method = transfers[i].server;
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0) return fail_errno(errno, "pipe2");
    if (::pipe2(from_child, O_CLOEXEC) != 0) {
      ::close(to_child[0]);
      ::close(to_child[1]);
      return fail_errno(errno, "pipe2");
    }
    Fd command_read = Fd::adopt(to_child[0]), command_write = Fd::adopt(to_child[1]);
    Fd reply_read = Fd::adopt(from_child[0]), reply_write = Fd::adopt(from_child[1]);
    auto child = bench::Process::fork([&] {
      command_write.reset();
      reply_read.reset();
      return serve_child(root, server_method, command_read.get(), reply_write.get());
    });
    if (!child) return std::unexpected(child.error());
    command_read.reset();
    reply_write.reset();
    std::uint16_t port = 0;
    if (!read_all(reply_read.get(), &port, sizeof port)) {
      return fail(Errc::system, "network demo", "the server child died before it listened");
    }
    if (port == 0) {
      std::uint32_t length = 0;
      std::string why;
      if (read_all(reply_read.get(), &length, sizeof length) && length < 4096) {
        why.resize(length);
        read_all(reply_read.get(), why.data(), length);
      }
      return fail(Errc::system,
                  "zcopy serve --method " + std::string(net::to_string(server_method)), why);
    }
    auto snapshot = [&]() -> Result<ServerSnapshot> {
      ServerSnapshot s;
      if (!write_all(command_write.get(), "s", 1) || !read_all(reply_read.get(), &s, sizeof s)) {
        return fail(Errc::system, "network demo", "the server child stopped answering");
      }
      return s;
    };
    for (; i < transfers.size() && transfers[i].server == server_method; ++i) {
      const net::ReceiveMethod client_method = transfers[i].client;
      const std::string output = *scratch / "got-" + std::string(net::to_string(server_method)) +
                                 "-" + std::string(net::to_string(client_method));
      http::DownloadOptions options;
      options.output = output;
      options.method = client_method;
      options.sync = false;  // the demo measures the transfer, not the disk
      auto url = http::parse_url("http://127.0.0.1:" + std::to_string(port) + "/data.bin");
      if (!url) return std::unexpected(url.error());
      auto before = snapshot();
      if (!before) return std::unexpected(before.error());
      auto got = http::download(*url, options);
      if (!got) return std::unexpected(got.error());
      auto after = snapshot();
      if (!after) return std::unexpected(after.error());
      auto copy_hash = file_hash(output, buffer);
      if (!copy_hash) return std::unexpected(copy_hash.error());
      const std::string label = std::string(net::to_string(server_method)) + " -> " +
                                std::string(net::to_string(client_method));
      if (*copy_hash != *original || got->file_size != size) {
        return fail(Errc::corrupt, "network demo", label + ": the copy differs from the original");
      }
      std::filesystem::remove(output);
      const std::uint64_t served = after->bytes - before->bytes;
      const double server_cpu =
          (after->cpu_user_s + after->cpu_system_s) - (before->cpu_user_s + before->cpu_system_s);
      const TransferLedger& l = got->ledger;
      table.add_row(
          {label, format_rate(l.bytes_per_s()), gb_figure(server_cpu, served),
           copies(after->zero_copy - before->zero_copy, after->copied_user - before->copied_user,
                  after->copied_kernel - before->copied_kernel),
           gb_figure(l.cpu_s(), l.bytes),
           copies(l.bytes_zero_copy, l.bytes_copied_user, l.bytes_copied_kernel)});
    }
    command_write.reset();  // the child stops its server and exits
    if (auto done = child->expect_success("zcopy serve child"); !done) return done;
  }
  table.print(stdout);
  if (!uring) {
    std::printf("\n   uring rows skipped: needs %s: %s\n",
                std::string(name(Capability::io_uring_splice)).c_str(),
                probe(Capability::io_uring_splice).detail.c_str());
  }
  std::printf(
      "\n   %s per row, every copy checked against the original. Each side counts its own "
      "copies:\n   loopback delivery copies nothing, recv() copies out of the socket, splice "
      "passes the pages on\n   (transfer_ledger.hpp). 'zcopy serve bench' and 'zcopy get "
      "--bench' compare with nginx and curl.\n",
      format_bytes(size).c_str());
  return {};
}

}  // namespace zc::demo
