// tests/http/client_test_servers.hpp: real HTTP servers for the client tests, and their cleanup.
//
// nginx (Debian's, run as root with daemon off, its pid, logs and temp files in the test's own
// directory, sendfile on) and `python3 -m http.server`, each on a free loopback port and in its own
// process group, killed with the group when the handle goes away (bench/support/peer_server.hpp).
// Plus a one-shot raw TCP server for answers no real server gives on purpose (a truncated body, a
// hand-made chunked body).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench/support/data.hpp"
#include "bench/support/peer_server.hpp"
#include "support/child_process.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::test {

using bench::free_port;
using bench::TempDir;

inline bool wait_for_port(std::uint16_t port, std::chrono::milliseconds limit) {
  return bench::wait_listening("127.0.0.1", port, limit);
}

// A server process in its own process group; the whole group dies with this handle. Not
// running() when it did not start.
using ServerProcess = bench::PeerServer;

// nginx serving `root` on a free port (or `port`); `extra` is added inside the server block.
inline ServerProcess start_nginx(const std::string& dir, const std::string& root,
                                 const std::string& extra = {}, std::uint16_t port = 0) {
  auto nginx = bench::start_nginx({.dir = dir,
                                   .root = root,
                                   .port = port,
                                   .access_log = dir + "/nginx-access.log",
                                   .server_extra = extra});
  return nginx ? std::move(*nginx) : ServerProcess{};
}

// `python3 script args...` (or `python3 -m http.server`) on a free port given as the last arg.
inline ServerProcess start_python(const std::string& dir, std::vector<std::string> argv) {
  const std::uint16_t port = free_port();
  argv.insert(argv.begin(), "python3");
  argv.push_back(std::to_string(port));
  auto server = bench::PeerServer::start(argv, "127.0.0.1", port, dir + "/python.log", "python3");
  return server ? std::move(*server) : ServerProcess{};
}

inline void write_random_file(const std::string& path, std::size_t size, std::uint64_t seed) {
  (void)bench::write_random_file(path, size, {.seed = seed});
}

inline void write_file_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_file(const std::string& path) {
  return bench::read_text(path);
}

inline bool exists(const std::string& path) {
  return std::filesystem::exists(std::filesystem::symlink_status(path));
}

// A python3 server of files under a root with what the resume tests need: byte ranges with
// If-Range, ETag (mtime in ns and size) and Last-Modified, and JSON directory listings in the
// format of `zcopy serve` for `Accept: application/json`. Query words change one answer:
// ?rate=N sends at N bytes/s, ?trickle one byte every half second, ?novalidator drops ETag and
// Last-Modified, ?badtotal lies about the total in Content-Range, ?badreason answers 404 with
// C1 controls in the reason phrase. `--no-validators` drops them for every answer. Files whose
// name starts with "slow" are sent at 64 KiB/s.
inline constexpr const char* kRangeServer = R"(import email.utils, json, os, sys, time, urllib.parse
import http.server
root, port = sys.argv[1], int(sys.argv[-1])
no_validators = '--no-validators' in sys.argv
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *args):
        pass
    def do_HEAD(self):
        self.answer(False)
    def do_GET(self):
        self.answer(True)
    def answer(self, body):
        url = urllib.parse.urlsplit(self.path)
        words = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        name = urllib.parse.unquote(url.path, errors='surrogateescape')
        if os.path.basename(name).startswith('slow'):
            words.setdefault('rate', '65536')
        local = os.path.join(os.fsencode(root), os.fsencode(name.lstrip('/')))
        if 'badreason' in words:
            self.send_response(404, '31mgoneÂ2J')
            self.send_header('Content-Length', '0')
            self.send_header('Connection', 'close')
            self.end_headers()
            return
        if os.path.isdir(local):
            entries = []
            for e in sorted(os.scandir(local), key=lambda e: e.name):
                st = e.stat()
                entry = {'name': os.fsdecode(e.name), 'mtime': int(st.st_mtime)}
                if e.is_dir():
                    entry['type'] = 'dir'
                else:
                    entry['type'] = 'file'
                    entry['size'] = st.st_size
                entries.append(entry)
            data = json.dumps({'path': name, 'entries': entries}).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.send_header('Connection', 'close')
            self.end_headers()
            if body:
                self.wfile.write(data)
            return
        try:
            data = open(local, 'rb').read()
            st = os.stat(local)
        except OSError:
            self.send_error(404)
            return
        size = len(data)
        etag = '"%x-%x"' % (st.st_mtime_ns, size)
        modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        validators = not no_validators and 'novalidator' not in words
        first, last = 0, size - 1
        status = 200
        wanted = self.headers.get('Range', '')
        if_range = self.headers.get('If-Range')
        ranges = 'norange' not in words  # norange: offers ranges, answers 200 all the same
        if wanted.startswith('bytes=') and ranges and (if_range is None or if_range in (etag, modified)):
            a, _, b = wanted[6:].partition('-')
            first = int(a)
            last = min(int(b), size - 1) if b else size - 1
            if first >= size:
                self.send_response(416)
                self.send_header('Content-Range', 'bytes */%d' % size)
                self.send_header('Content-Length', '0')
                self.send_header('Connection', 'close')
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header('Accept-Ranges', 'bytes')
        if validators:
            self.send_header('ETag', etag)
            self.send_header('Last-Modified', modified)
        if status == 206:
            total = size + 1 if 'badtotal' in words else size
            self.send_header('Content-Range', 'bytes %d-%d/%d' % (first, last, total))
        self.send_header('Content-Length', str(last - first + 1))
        self.send_header('Connection', 'close')
        self.end_headers()
        if not body:
            return
        part = data[first:last + 1]
        try:
            if 'trickle' in words:
                for i in range(len(part)):
                    self.wfile.write(part[i:i + 1])
                    self.wfile.flush()
                    time.sleep(0.5)
            elif 'rate' in words:
                step = max(1, int(words['rate']) // 10)
                for i in range(0, len(part), step):
                    self.wfile.write(part[i:i + step])
                    self.wfile.flush()
                    time.sleep(0.1)
            else:
                self.wfile.write(part)
        except (BrokenPipeError, ConnectionResetError):
            pass
http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler).serve_forever()
)";

// kRangeServer serving `root` (its script and log in `dir`); `extra` goes before the port.
inline ServerProcess start_range_server(const std::string& dir, const std::string& root,
                                        std::vector<std::string> extra = {}) {
  const std::string script = dir + "/range_server.py";
  std::ofstream(script) << kRangeServer;
  std::vector<std::string> argv = {script, root};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return start_python(dir, std::move(argv));
}

// Accepts one connection on a free loopback port, reads the request head, sends `answer` and
// closes: for responses no well-behaved server sends.
class OneShotServer {
 public:
  explicit OneShotServer(std::string answer) {
    auto socket = net::listen_tcp(net::Endpoint{"127.0.0.1", 0}, {.nonblocking = false});
    if (!socket) return;
    port_ = net::local_address(socket->get())->port();
    // accept() gives up after 10 s, so a test that never connects cannot hang in the destructor.
    timeval limit{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(socket->get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
    thread_ = std::thread([listener = std::move(*socket), answer = std::move(answer)] {
      Fd peer = Fd::adopt(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!peer) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(peer.get(), buffer, sizeof(buffer), 0);
        if (n <= 0) return;
        request.append(buffer, static_cast<std::size_t>(n));
      }
      (void)::send(peer.get(), answer.data(), answer.size(), MSG_NOSIGNAL);
    });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  std::uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace zc::test
