// `zcopy demo` section 10: HTTPS. A file served by `zcopy serve --cert` on loopback and fetched by
// `zcopy get` over TLS 1.3, both ledgers with the cipher's pass beside the copies; then one record
// altered on its way, refused, and nothing of it revealed.
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>

#include "bench/support/data.hpp"
#include "bench/support/process.hpp"
#include "bench/support/tls_pki.hpp"
#include "examples/demo/sections.hpp"
#include "zcopy/core/fd.hpp"
#include "zcopy/core/units.hpp"
#include "zcopy/http/client/download.hpp"
#include "zcopy/http/server/server.hpp"
#include "zcopy/secure/record_layer.hpp"

namespace zc::demo {
namespace {

// A record sealed by one side, one bit of its ciphertext flipped on the way, opened by the other.
Result<void> show_a_tampered_record() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return fail_errno(errno, "socketpair");
  Fd sender = Fd::adopt(fds[0]), receiver = Fd::adopt(fds[1]);
  // Both directions' secrets, as a handshake would have produced them.
  auto one = secure::Secret::from(std::vector<std::uint8_t>(32, 0x5a));
  auto two = secure::Secret::from(std::vector<std::uint8_t>(32, 0xa5));
  if (!one || !two) return fail(Errc::system, "https demo", "secrets");
  constexpr auto kSuite = secure::CipherSuite::aes_128_gcm_sha256;
  auto writer =
      secure::RecordWriter::create(sender.get(), *secure::RecordCipher::create(kSuite, *one));
  auto reader = secure::RecordLayer::create(receiver.get(), kSuite, *one, *two);
  if (!writer) return std::unexpected(writer.error());
  if (!reader) return std::unexpected(reader.error());

  const std::string secret = "the account number is 1234-5678";
  std::vector<std::byte> record(secret.size() + secure::kRecordOverhead);
  auto sealed = writer->seal_from(std::as_bytes(std::span(secret)), record,
                                  secure::ContentType::application_data);
  if (!sealed) return std::unexpected(sealed.error());
  record[secure::kRecordHeaderSize + 3] ^= std::byte{0x01};  // one bit, inside the ciphertext
  if (auto sent = writer->send(record); !sent) return sent;

  std::vector<std::byte> buffer(secure::kMaxCiphertext, std::byte{0});
  auto opened = reader->read(buffer);
  const bool revealed = std::search(buffer.begin(), buffer.end(), secret.begin(), secret.end(),
                                    [](std::byte b, char c) {
                                      return b == static_cast<std::byte>(c);
                                    }) != buffer.end();
  const bool wiped =
      std::all_of(buffer.begin(), buffer.end(), [](std::byte b) { return b == std::byte{0}; });
  if (opened) return fail(Errc::corrupt, "https demo", "an altered record was accepted");
  std::printf("   a record with one ciphertext bit flipped: %s\n",
              opened.error().message().c_str());
  std::printf("   the receive buffer afterwards: %s; plaintext revealed: %s\n",
              wiped ? "all zeros (wiped)" : "NOT wiped", revealed ? "YES" : "none");
  if (!wiped || revealed)
    return fail(Errc::corrupt, "https demo", "bytes of a refused record were left readable");
  return {};
}

}  // namespace

Result<void> demo_https(const DemoSettings& settings) {
  demo_heading(10, "HTTPS: zcopy serve --cert and zcopy get over TLS 1.3",
               "The server seals file pages from the page cache into pinned buffers and sends "
               "them zero-copy; the\n   client opens each record where it landed and reveals "
               "it only once its tag verified.");
  if (!bench::have_program("openssl")) {
    std::printf("   skipped: needs the openssl program to make a test certificate\n");
    return {};
  }
  auto scratch = bench::TempDir::create("zcopy-demo-https");
  if (!scratch) return std::unexpected(scratch.error());
  auto pki = bench::make_tls_pki(scratch->path());
  if (!pki) return std::unexpected(pki.error());
  const std::string root = *scratch / "www";
  std::filesystem::create_directory(root);
  const std::uint64_t size = std::max<std::uint64_t>(kMiB, settings.size_bytes / kMiB * kMiB);
  if (auto made = bench::write_random_file(root + "/data.bin", size); !made) return made;

  http::ServerOptions options{.root = root};
  options.bind = {"127.0.0.1", 0};
  options.threads = 1;
  options.access_log_fd = -1;
  options.tls =
      secure::ServerTlsOptions{.cert_file = pki->server_cert, .key_file = pki->server_key};
  auto server = http::Server::start(options);
  if (!server) return std::unexpected(server.error());

  http::DownloadOptions get;
  get.output = *scratch / "got.bin";
  get.sync = false;
  get.tls.ca_file = pki->ca_cert;
  auto url = http::parse_url((*server)->url() + "data.bin");
  if (!url) return std::unexpected(url.error());
  auto got = http::download(*url, get);
  if (!got) return std::unexpected(got.error());
  (*server)->stop();
  if (bench::read_text(root + "/data.bin") != bench::read_text(get.output))
    return fail(Errc::corrupt, "https demo", "the copy differs from the original");
  std::printf("   %s\n", got->note.c_str());
  std::printf("   get:   %s\n", got->ledger.summary().c_str());
  std::printf("   serve: %s\n", (*server)->ledger().summary().c_str());
  std::printf("   (server and client share this process, so each CPU figure is both sides'.)\n\n");
  return show_a_tampered_record();
}

}  // namespace zc::demo
