// tests/http/client_test_servers.hpp: real HTTP servers for the client tests, and their cleanup.
//
// nginx (Debian's, run as root with daemon off, its pid, logs and temp files in the test's own
// directory, sendfile on) and `python3 -m http.server`, each on a free loopback port and in its own
// process group, killed with the group when the handle goes away. Plus a one-shot raw TCP server
// for answers no real server gives on purpose (a truncated body, a hand-made chunked body).
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

#include "support/child_process.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::test {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/zcopy-get-test-XXXXXX";
    path_ = ::mkdtemp(pattern) != nullptr ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A port nothing listens on right now (the kernel's choice, released again).
inline std::uint16_t free_port() {
  auto socket = net::listen_tcp(net::Endpoint{"127.0.0.1", 0});
  return socket ? net::local_address(socket->get())->port() : 0;
}

inline bool wait_for_port(std::uint16_t port, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (net::connect_tcp({"127.0.0.1", port}, std::chrono::milliseconds(200))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// A server process in its own process group; the whole group dies with this handle.
class ServerProcess {
 public:
  ServerProcess() = default;
  ServerProcess(pid_t pid, std::uint16_t port) : pid_(pid), port_(port) {}
  ServerProcess(ServerProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), port_(other.port_) {}
  ServerProcess& operator=(ServerProcess&& other) noexcept {
    if (this != &other) {
      kill_now();
      pid_ = std::exchange(other.pid_, -1);
      port_ = other.port_;
    }
    return *this;
  }
  ~ServerProcess() { kill_now(); }

  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    reap(pid_);
    pid_ = -1;
  }
  bool running() const { return pid_ > 0; }
  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

// Runs argv in a new process group with stdout and stderr sent to `log`.
inline pid_t spawn_server(std::vector<std::string> argv, const std::string& log) {
  return spawn([argv = std::move(argv), log]() -> int {
    ::setpgid(0, 0);
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    return 127;
  });
}

inline ServerProcess await_server(pid_t pid, std::uint16_t port) {
  if (pid <= 0) return {};
  ::setpgid(pid, pid);
  ServerProcess server(pid, port);
  if (!wait_for_port(port, std::chrono::seconds(10))) server.kill_now();
  return server;
}

// nginx serving `root` on a free port; `extra` is added inside the server block.
inline ServerProcess start_nginx(const std::string& dir, const std::string& root,
                                 const std::string& extra = {}, std::uint16_t port = 0) {
  if (port == 0) port = free_port();
  const std::string conf = dir + "/nginx-" + std::to_string(port) + ".conf";
  std::ofstream(conf) << "daemon off;\nmaster_process on;\nworker_processes 1;\nuser root;\n"
                      << "pid " << dir << "/nginx-" << port << ".pid;\n"
                      << "error_log " << dir << "/nginx-error.log;\n"
                      << "events { worker_connections 64; }\n"
                      << "http {\n  sendfile on;\n  access_log " << dir << "/nginx-access.log;\n"
                      << "  default_type application/octet-stream;\n"
                      << "  client_body_temp_path " << dir << ";\n  proxy_temp_path " << dir
                      << ";\n  fastcgi_temp_path " << dir << ";\n  uwsgi_temp_path " << dir
                      << ";\n  scgi_temp_path " << dir << ";\n"
                      << "  server {\n    listen 127.0.0.1:" << port << ";\n    root " << root
                      << ";\n"
                      << extra << "\n  }\n}\n";
  const std::string error_log = dir + "/nginx-error.log";
  return await_server(
      spawn_server({"nginx", "-e", error_log, "-p", dir, "-c", conf}, dir + "/nginx-stdout.log"),
      port);
}

// `python3 script args...` (or `python3 -m http.server`) on a free port given as the last arg.
inline ServerProcess start_python(const std::string& dir, std::vector<std::string> argv) {
  const std::uint16_t port = free_port();
  argv.insert(argv.begin(), "python3");
  argv.push_back(std::to_string(port));
  return await_server(spawn_server(std::move(argv), dir + "/python.log"), port);
}

inline void write_random_file(const std::string& path, std::size_t size, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::vector<std::uint64_t> words((size + 7) / 8);
  for (auto& w : words) w = random();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(words.data()), static_cast<std::streamsize>(size));
}

inline void write_file_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
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
        if wanted.startswith('bytes=') and (if_range is None or if_range in (etag, modified)):
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
