#include "bench/support/nats_server.hpp"

#include <fstream>

namespace zc::bench {

std::string NatsServer::url() const {
  return "nats://" + server_.host() + ":" + std::to_string(server_.port());
}

Result<NatsServer> start_nats_server(const NatsServerConfig& c) {
  if (!have_program("nats-server")) {
    return fail(Errc::capability_missing, "start nats-server",
                "needs nats-server (scripts/install-deps.sh installs it)");
  }
  const std::uint16_t port = c.port != 0 ? c.port : free_port(c.host);
  if (port == 0) return fail(Errc::system, "start nats-server", "no free port on " + c.host);
  const std::string base = c.dir + "/nats-" + c.name;
  {
    std::ofstream config(base + ".conf");
    config << "server_name: " << c.name << "\nlisten: " << c.host << ":" << port
           << "\nmax_payload: " << c.max_payload << "\nmax_pending: 268435456\n";
    if (c.jetstream) config << "jetstream { store_dir: \"" << base << "-js\" }\n";
    if (c.cluster_port != 0) {
      config << "cluster {\n  name: " << (c.cluster.empty() ? "zcopy" : c.cluster)
             << "\n  listen: " << c.host << ":" << c.cluster_port << "\n  routes: [\n";
      for (const std::string& route : c.routes) config << "    " << route << "\n";
      config << "  ]\n}\n";
    }
    config << c.extra << "\n";
    if (!config) return fail(Errc::system, "start nats-server", "cannot write " + base + ".conf");
  }
  std::vector<std::string> argv = c.exec_prefix;
  argv.insert(argv.end(), {"nats-server", "-c", base + ".conf"});
  NatsServer server;
  server.log_ = base + ".log";
  auto started = PeerServer::start(argv, c.host, port, server.log_, "nats-server", c.cpu);
  if (!started) return std::unexpected(started.error());
  server.server_ = std::move(*started);
  return server;
}

}  // namespace zc::bench
