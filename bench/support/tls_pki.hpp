// bench/support/tls_pki.hpp: certificates for TLS peers on loopback, made with the openssl CLI:
// a CA, a server certificate it signed for localhost and 127.0.0.1, one that has expired, and a
// second CA that signed nothing of ours (to be the wrong one).
//
//   auto pki = zc::bench::make_tls_pki(dir.path());
//   start a server with pki->server_cert / pki->server_key; clients trust pki->ca_cert.
#pragma once

#include <string>

#include "zcopy/core/error.hpp"

namespace zc::bench {

struct TlsPki {
  std::string ca_cert;        // trust this
  std::string other_ca_cert;  // a CA that did not sign the server's certificates
  std::string server_cert;    // CN and SAN localhost, SAN IP 127.0.0.1; valid for a day
  std::string server_key;
  std::string expired_cert;  // the same names and key, but expired yesterday
};

// Writes the files into `dir`. capability_missing when the openssl program is not installed.
Result<TlsPki> make_tls_pki(const std::string& dir);

}  // namespace zc::bench
