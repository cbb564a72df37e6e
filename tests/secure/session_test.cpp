#include "zcopy/secure/session.hpp"

#include <gtest/gtest.h>
#include <poll.h>

#include "secure/tls_peer_support.hpp"
#include "support/capability_gate.hpp"
#include "zcopy/secure/ktls.hpp"

namespace zc::secure {
namespace {

using test::Attack;
using test::bytes_of;
using test::read_to_end;

class SessionWithSServer : public test::TlsSiteTest {
 protected:
  Result<test::SServer> s_server(const std::string& suite, bool tls12 = false, bool www = true) {
    return test::start_s_server({.cert = pki_.server_cert,
                                 .key = pki_.server_key,
                                 .suite = suite,
                                 .tls12 = tls12,
                                 .www_root = www ? dir_ / "www" : std::string()});
  }

  SessionOptions trusting() const { return {.ca_file = pki_.ca_cert}; }
};

constexpr const char* kRequest = "GET /file.bin HTTP/1.0\r\n\r\n";
constexpr std::string_view kWwwHead = "HTTP/1.0 200 ok\r\nContent-type: text/plain\r\n\r\n";

TEST_F(SessionWithSServer, EachTls13SuiteFetchesAFileThroughOurRecordLayer) {
  for (const char* suite :
       {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}) {
    auto server = s_server(suite);
    ASSERT_TRUE(server) << server.error().message();
    auto session = Session::connect({"127.0.0.1", server->port}, trusting());
    ASSERT_TRUE(session) << suite << ": " << session.error().message();
    EXPECT_EQ(session->path(), ReadPath::record_layer) << session->describe();
    EXPECT_NE(session->describe().find(suite), std::string::npos) << session->describe();
    ASSERT_TRUE(session->write(bytes_of(kRequest)));
    auto fetched = read_to_end(*session);
    ASSERT_FALSE(fetched.error) << suite << ": " << fetched.error->message();
    EXPECT_EQ(fetched.data, std::string(kWwwHead) + body_) << suite;
    TransferLedger ledger;
    session->account_read(ledger, fetched.data.size());
    EXPECT_EQ(ledger.bytes_copied_user, 0u) << suite;
    EXPECT_EQ(ledger.bytes_copied_kernel, fetched.data.size()) << suite;
    EXPECT_EQ(ledger.bytes_ciphered, fetched.data.size()) << suite;
  }
}

TEST_F(SessionWithSServer, HostNameIsCheckedAndSentAsSni) {
  auto server = s_server("");
  ASSERT_TRUE(server) << server.error().message();
  auto session = Session::connect({"localhost", server->port}, trusting());
  ASSERT_TRUE(session) << session.error().message();
  EXPECT_EQ(session->alpn(), "");  // s_server offers no ALPN unless told
  ASSERT_TRUE(session->write(bytes_of(kRequest)));
  EXPECT_FALSE(read_to_end(*session).error);
}

TEST_F(SessionWithSServer, Tls12ServerIsReadThroughSslReadAndTheLedgerCountsTheCopy) {
  auto server = s_server("", true);
  ASSERT_TRUE(server) << server.error().message();
  auto session = Session::connect({"127.0.0.1", server->port}, trusting());
  ASSERT_TRUE(session) << session.error().message();
  EXPECT_EQ(session->path(), ReadPath::ssl_read);
  EXPECT_NE(session->describe().find("one more copy"), std::string::npos);
  ASSERT_TRUE(session->write(bytes_of(kRequest)));
  auto fetched = read_to_end(*session);
  ASSERT_FALSE(fetched.error) << fetched.error->message();
  EXPECT_EQ(fetched.data, std::string(kWwwHead) + body_);
  TransferLedger ledger;
  session->account_read(ledger, fetched.data.size());
  EXPECT_EQ(ledger.bytes_copied_user, fetched.data.size());
}

TEST_F(SessionWithSServer, KtlsProbeSaysWhyTheUserSpacePathRuns) {
  auto probe = probe_ktls();
  if (probe) GTEST_SUCCEED() << "this kernel has kTLS";
  auto server = s_server("");
  ASSERT_TRUE(server) << server.error().message();
  auto session = Session::connect({"127.0.0.1", server->port}, trusting());
  ASSERT_TRUE(session) << session.error().message();
  if (!probe) {
    EXPECT_NE(probe.error().message().find("CONFIG_TLS"), std::string::npos)
        << probe.error().message();
    EXPECT_NE(session->describe().find("CONFIG_TLS"), std::string::npos) << session->describe();
  }
}

TEST_F(SessionWithSServer, KeyUpdatesFromTheServerAreFollowedAndAnsweredMidTransfer) {
  auto server = s_server("TLS_AES_256_GCM_SHA384", false, false);
  ASSERT_TRUE(server) << server.error().message();
  auto session = Session::connect({"127.0.0.1", server->port}, trusting());
  ASSERT_TRUE(session) << session.error().message();
  ASSERT_EQ(session->path(), ReadPath::record_layer);
  std::vector<std::byte> buffer(Session::kReadRoom);
  auto expect_line = [&](const std::string& line) {
    std::string got;
    while (got.size() < line.size() + 1) {
      auto data = session->read(buffer);
      ASSERT_TRUE(data) << data.error().message();
      ASSERT_FALSE(data->empty());
      got.append(reinterpret_cast<const char*>(data->data()), data->size());
    }
    EXPECT_EQ(got, line + "\n");
  };
  // s_server acts on a command only when it starts what one read of its stdin brings, and drops
  // the rest of that read; so each next line waits until the command's record has reached us.
  auto wait_for_record = [&] {
    pollfd ready{session->fd(), POLLIN, 0};
    ASSERT_EQ(::poll(&ready, 1, 10000), 1) << "no KeyUpdate record within 10 s";
  };
  server->send_line("before");
  expect_line("before");
  server->send_line("k");  // KeyUpdate, update_not_requested
  wait_for_record();
  server->send_line("after one");
  expect_line("after one");
  EXPECT_EQ(session->key_updates_received(), 1u);
  EXPECT_EQ(session->key_updates_sent(), 0u);
  server->send_line("K");  // KeyUpdate, update_requested: we must answer with ours
  wait_for_record();
  server->send_line("after two");
  expect_line("after two");
  EXPECT_EQ(session->key_updates_received(), 2u);
  EXPECT_EQ(session->key_updates_sent(), 1u);  // the answer the server asked for
  ASSERT_TRUE(session->write(bytes_of("from the client under new keys\n")));
  bool seen = false;
  while (auto line = server->process.read_line(std::chrono::seconds(10))) {
    if (line->find("from the client under new keys") != std::string::npos) {
      seen = true;
      break;
    }
  }
  EXPECT_TRUE(seen) << "s_server did not print what we sent after its KeyUpdate";
  ASSERT_TRUE(session->update_keys(true));
  ASSERT_TRUE(session->write(bytes_of("and after our own\n")));
  seen = false;
  while (auto line = server->process.read_line(std::chrono::seconds(10))) {
    if (line->find("and after our own") != std::string::npos) {
      seen = true;
      break;
    }
  }
  EXPECT_TRUE(seen);
  server->send_line("after three");  // under the keys it moved to when we asked
  expect_line("after three");
  EXPECT_EQ(session->key_updates_received(), 3u);
  EXPECT_EQ(session->key_updates_sent(), 2u);
}

TEST_F(SessionWithSServer, WrongCaWrongNameAndExpiredCertificateAreOneLineErrors) {
  auto server = s_server("");
  ASSERT_TRUE(server) << server.error().message();
  auto wrong_ca = Session::connect({"127.0.0.1", server->port}, {.ca_file = pki_.other_ca_cert});
  ASSERT_FALSE(wrong_ca);
  EXPECT_NE(wrong_ca.error().message().find("unable to get local issuer certificate"),
            std::string::npos)
      << wrong_ca.error().message();

  auto socket = net::connect_tcp({"127.0.0.1", server->port}, std::chrono::seconds(5));
  ASSERT_TRUE(socket);
  auto wrong_name = Session::handshake(std::move(*socket), "wrong.example", trusting());
  ASSERT_FALSE(wrong_name);
  EXPECT_NE(wrong_name.error().message().find("hostname mismatch"), std::string::npos)
      << wrong_name.error().message();

  auto expired = test::start_s_server(
      {.cert = pki_.expired_cert, .key = pki_.server_key, .www_root = dir_ / "www"});
  ASSERT_TRUE(expired) << expired.error().message();
  auto late = Session::connect({"127.0.0.1", expired->port}, trusting());
  ASSERT_FALSE(late);
  EXPECT_NE(late.error().message().find("certificate has expired"), std::string::npos)
      << late.error().message();
  for (const auto* e : {&wrong_ca.error(), &wrong_name.error(), &late.error()})
    EXPECT_EQ(e->message().find('\n'), std::string::npos) << e->message();
}

TEST_F(SessionWithSServer, InsecureSkipsTheCertificateCheck) {
  auto server = s_server("");
  ASSERT_TRUE(server) << server.error().message();
  auto session = Session::connect({"127.0.0.1", server->port}, {.insecure = true});
  ASSERT_TRUE(session) << session.error().message();
}

// Each attack on the 3rd response record: a clear error, and the caller received exactly the
// records before it, byte for byte.
TEST_F(SessionWithSServer, AlteredRecordsThroughAProxyEndTheTransferWithExactlyTheRecordsBefore) {
  auto server = s_server("TLS_AES_256_GCM_SHA384");
  ASSERT_TRUE(server) << server.error().message();
  const std::string whole = std::string(kWwwHead) + body_;
  struct Case {
    Attack attack;
    const char* says;
  };
  for (const Case& c :
       {Case{Attack::flip_ciphertext_bit, "authentication tag"},
        Case{Attack::flip_tag_bit, "authentication tag"}, Case{Attack::drop, "authentication tag"},
        Case{Attack::replay, "authentication tag"}, Case{Attack::truncate, "truncated record"},
        Case{Attack::oversize, "exceeds the limit"}}) {
    // Record by record into our buffer, and read ahead with the records gathered.
    for (const bool ahead : {false, true}) {
      SCOPED_TRACE(ahead ? "read ahead" : "one record per read");
      test::TlsProxy proxy(server->port, c.attack, 2);
      auto session = Session::connect({"127.0.0.1", proxy.port()}, trusting());
      ASSERT_TRUE(session) << session.error().message();
      ASSERT_TRUE(session->write(bytes_of(kRequest)));
      auto fetched = ahead ? test::read_ahead_to_end(*session) : read_to_end(*session);
      ASSERT_TRUE(proxy.attacked()) << static_cast<int>(c.attack);
      ASSERT_TRUE(fetched.error) << "attack " << static_cast<int>(c.attack) << " went unnoticed";
      EXPECT_NE(fetched.error->message().find(c.says), std::string::npos)
          << fetched.error->message();
      EXPECT_EQ(fetched.error->message().find('\n'), std::string::npos);
      ASSERT_GT(proxy.content_before_attack(), 0u);
      ASSERT_EQ(fetched.data.size(), proxy.content_before_attack()) << static_cast<int>(c.attack);
      EXPECT_TRUE(fetched.data == whole.substr(0, fetched.data.size()));
    }
  }
}

TEST_F(SessionWithSServer, UnalteredTrafficThroughTheProxyArrivesWhole) {
  auto server = s_server("");
  ASSERT_TRUE(server) << server.error().message();
  test::TlsProxy proxy(server->port, Attack::none, 0);
  auto session = Session::connect({"127.0.0.1", proxy.port()}, trusting());
  ASSERT_TRUE(session) << session.error().message();
  ASSERT_TRUE(session->write(bytes_of(kRequest)));
  auto fetched = read_to_end(*session);
  ASSERT_FALSE(fetched.error) << fetched.error->message();
  EXPECT_TRUE(fetched.data == std::string(kWwwHead) + body_);
}

}  // namespace
}  // namespace zc::secure
