// The client session against the servers people fetch from: nginx (TLS 1.3, and TLS 1.2 only)
// and python3's http.server behind its ssl module, each with a certificate from a test CA.
#include <gtest/gtest.h>

#include "bench/support/peer_server.hpp"
#include "secure/tls_peer_support.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/secure/session.hpp"

namespace zc::secure {
namespace {

using test::bytes_of;
using test::read_to_end;

class SessionWithPeers : public test::TlsSiteTest {
 protected:
  // GET /file.bin over `session`; the body follows the head's blank line.
  std::string fetch_body(Session& session, bool close_notify_expected = true) {
    const std::string request =
        "GET /file.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    EXPECT_TRUE(session.write(bytes_of(request)));
    auto fetched = read_to_end(session);
    if (close_notify_expected) {
      EXPECT_FALSE(fetched.error) << fetched.error->message();
    } else if (fetched.error) {
      EXPECT_NE(fetched.error->message().find("without close_notify"), std::string::npos)
          << fetched.error->message();
    }
    EXPECT_EQ(fetched.data.find("HTTP/1."), 0u);
    EXPECT_NE(fetched.data.find(" 200 "), std::string::npos) << fetched.data.substr(0, 200);
    const auto end = fetched.data.find("\r\n\r\n");
    return end == std::string::npos ? std::string() : fetched.data.substr(end + 4);
  }

  Result<bench::PeerServer> nginx(const std::string& protocols) {
    if (::geteuid() != 0) return fail(Errc::capability_missing, "nginx", "needs root");
    return bench::start_nginx({.dir = dir_.path(),
                               .root = dir_ / "www",
                               .server_extra = "    ssl_certificate " + pki_.server_cert +
                                               ";\n    ssl_certificate_key " + pki_.server_key +
                                               ";\n    ssl_protocols " + protocols + ";\n",
                               .listen_extra = "ssl"});
  }
};

TEST_F(SessionWithPeers, NginxWithTls13IsReadThroughOurRecordLayer) {
  if (!bench::have_program("nginx")) ZC_SKIP_BECAUSE("needs nginx");
  ZC_REQUIRE_ROOT("to run nginx");
  auto server = nginx("TLSv1.3");
  ASSERT_TRUE(server) << server.error().message();
  for (const char* host : {"127.0.0.1", "localhost"}) {
    auto session = Session::connect({host, server->port()}, {.ca_file = pki_.ca_cert});
    ASSERT_TRUE(session) << session.error().message();
    EXPECT_EQ(session->path(), ReadPath::record_layer) << session->describe();
    EXPECT_EQ(session->alpn(), "http/1.1");
    EXPECT_TRUE(fetch_body(*session) == body_) << host;
  }
}

TEST_F(SessionWithPeers, NginxWithTls12OnlyIsReadThroughSslRead) {
  if (!bench::have_program("nginx")) ZC_SKIP_BECAUSE("needs nginx");
  ZC_REQUIRE_ROOT("to run nginx");
  auto server = nginx("TLSv1.2");
  ASSERT_TRUE(server) << server.error().message();
  auto session = Session::connect({"localhost", server->port()}, {.ca_file = pki_.ca_cert});
  ASSERT_TRUE(session) << session.error().message();
  EXPECT_EQ(session->path(), ReadPath::ssl_read) << session->describe();
  EXPECT_NE(session->describe().find("TLSv1.2"), std::string::npos) << session->describe();
  EXPECT_TRUE(fetch_body(*session) == body_);
}

TEST_F(SessionWithPeers, TlsOnlyClientRefusesATls12OnlyServerInOneLine) {
  if (!bench::have_program("nginx")) ZC_SKIP_BECAUSE("needs nginx");
  ZC_REQUIRE_ROOT("to run nginx");
  auto server = nginx("TLSv1.2");
  ASSERT_TRUE(server) << server.error().message();
  auto session = Session::connect({"localhost", server->port()},
                                  {.ca_file = pki_.ca_cert, .allow_tls12 = false});
  ASSERT_FALSE(session);
  EXPECT_EQ(session.error().message().find('\n'), std::string::npos);
  EXPECT_NE(session.error().message().find("TLS handshake"), std::string::npos)
      << session.error().message();
}

TEST_F(SessionWithPeers, PythonHttpServerBehindSslIsReadThroughOurRecordLayer) {
  if (!bench::have_program("python3")) ZC_SKIP_BECAUSE("needs python3");
  const std::uint16_t port = bench::free_port();
  const std::string script = dir_ / "https_server.py";
  std::ofstream(script) << "import http.server, ssl, sys, functools\n"
                           "root, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], "
                           "sys.argv[4]\n"
                           "handler = functools.partial(http.server.SimpleHTTPRequestHandler, "
                           "directory=root)\n"
                           "httpd = http.server.ThreadingHTTPServer(('127.0.0.1', port), handler)\n"
                           "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
                           "ctx.load_cert_chain(cert, key)\n"
                           "httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)\n"
                           "httpd.serve_forever()\n";
  auto server = bench::PeerServer::start(
      {"python3", script, dir_ / "www", std::to_string(port), pki_.server_cert, pki_.server_key},
      "127.0.0.1", port, dir_ / "python.log", "python3 https server");
  ASSERT_TRUE(server) << server.error().message();
  auto session = Session::connect({"localhost", port}, {.ca_file = pki_.ca_cert});
  ASSERT_TRUE(session) << session.error().message();
  EXPECT_EQ(session->path(), ReadPath::record_layer) << session->describe();
  // Python closes its sockets without close_notify; the body is whole all the same, and the
  // session says the stream ended without it rather than reporting a clean end.
  EXPECT_TRUE(fetch_body(*session, false) == body_);
}

}  // namespace
}  // namespace zc::secure
