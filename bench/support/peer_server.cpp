#include "bench/support/peer_server.hpp"

#include <fstream>
#include <thread>

#include "bench/support/data.hpp"
#include "zcopy/net/tcp.hpp"

namespace zc::bench {

std::uint16_t free_port(const std::string& host) {
  auto socket = net::listen_tcp(net::Endpoint{host, 0});
  if (!socket) return 0;
  auto address = net::local_address(socket->get());
  return address ? address->port() : 0;
}

bool wait_listening(const std::string& host, std::uint16_t port, std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (net::connect_tcp({host, port}, std::chrono::milliseconds(200))) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

Result<PeerServer> PeerServer::start(const std::vector<std::string>& argv, const std::string& host,
                                     std::uint16_t port, const std::string& log,
                                     std::string_view what, int cpu) {
  auto process = Process::spawn(argv, {.out = Output::file,
                                       .err = Output::file,
                                       .file = log,
                                       .append = true,
                                       .own_group = true,
                                       .cpu = cpu,
                                       .die_with_parent = true});
  if (!process) return std::unexpected(process.error());
  PeerServer server;
  server.process_ = std::move(*process);
  server.host_ = host;
  server.port_ = port;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    if (net::connect_tcp({host, port}, std::chrono::milliseconds(200))) return server;
    if (auto done = server.process_.try_wait()) {
      return fail(
          Errc::rejected, "start " + std::string(what),
          "exited with " + std::to_string(done->code) + " before it listened (see " + log + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return fail(Errc::timeout, "start " + std::string(what),
              "not listening on " + host + ":" + std::to_string(port) + " after 10 s");
}

std::string PeerServer::url(std::string_view path) const {
  const std::string bracketed = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
  return "http://" + bracketed + ":" + std::to_string(port_) + std::string(path);
}

Result<PeerServer> start_nginx(const NginxConfig& c) {
  if (!have_program("nginx"))
    return fail(Errc::capability_missing, "start nginx",
                "needs nginx (scripts/install-deps.sh installs it)");
  const std::uint16_t port = c.port != 0 ? c.port : free_port(c.host);
  if (port == 0) return fail(Errc::system, "start nginx", "no free port on " + c.host);
  const std::string name = c.dir + "/nginx-" + std::to_string(port);
  const std::string error_log = c.dir + "/nginx-error.log";
  std::ofstream(name + ".conf") << "daemon off;\nmaster_process on;\nworker_processes " << c.workers
                                << ";\nuser root;\n"
                                << c.main_extra << "pid " << name << ".pid;\nerror_log "
                                << error_log << ";\n"
                                << "events { worker_connections " << c.worker_connections << "; }\n"
                                << "http {\n"
                                << c.http_extra << "  sendfile on;\n"
                                << "  access_log " << (c.access_log.empty() ? "off" : c.access_log)
                                << ";\n"
                                << "  default_type application/octet-stream;\n"
                                << "  client_body_temp_path " << c.dir << ";\n  proxy_temp_path "
                                << c.dir << ";\n  fastcgi_temp_path " << c.dir
                                << ";\n  uwsgi_temp_path " << c.dir << ";\n  scgi_temp_path "
                                << c.dir << ";\n"
                                << "  server {\n    listen " << c.host << ":" << port
                                << (c.listen_extra.empty() ? "" : " " + c.listen_extra)
                                << ";\n    root " << c.root << ";\n"
                                << c.server_extra << "\n  }\n}\n";
  std::vector<std::string> argv = c.exec_prefix;
  for (const std::string& word : {std::string("nginx"), std::string("-e"), error_log,
                                  std::string("-p"), c.dir, std::string("-c"), name + ".conf"})
    argv.push_back(word);
  auto server = PeerServer::start(argv, c.host, port, c.dir + "/nginx-stdout.log", "nginx", c.cpu);
  if (!server && server.error().code() == Errc::rejected)
    return fail(Errc::rejected, "start nginx", read_text(error_log));
  return server;
}

}  // namespace zc::bench
