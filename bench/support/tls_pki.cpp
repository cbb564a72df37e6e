#include "bench/support/tls_pki.hpp"

#include <fstream>

#include "bench/support/process.hpp"

namespace zc::bench {

namespace {

Result<void> openssl(std::vector<std::string> args) {
  args.insert(args.begin(), "openssl");
  RunResult done = run(args);
  if (done.exit_code != 0)
    return fail(Errc::system, "openssl " + args[1], done.output.substr(0, done.output.find('\n')));
  return {};
}

Result<void> make_ca(const std::string& dir, const std::string& name, const std::string& cn) {
  return openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", dir + "/" + name + ".key", "-out", dir + "/" + name + ".pem", "-days",
                  "2", "-subj", "/CN=" + cn});
}

}  // namespace

Result<TlsPki> make_tls_pki(const std::string& dir) {
  if (!have_program("openssl"))
    return fail(Errc::capability_missing, "make test certificates",
                "needs the openssl program (scripts/install-deps.sh installs it)");
  TlsPki pki{.ca_cert = dir + "/ca.pem",
             .other_ca_cert = dir + "/other-ca.pem",
             .server_cert = dir + "/server.pem",
             .server_key = dir + "/server.key",
             .expired_cert = dir + "/expired.pem"};
  if (auto r = make_ca(dir, "ca", "zcopy test CA"); !r) return std::unexpected(r.error());
  if (auto r = make_ca(dir, "other-ca", "zcopy other CA"); !r) return std::unexpected(r.error());
  if (auto r = openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", pki.server_key, "-out", dir + "/server.csr", "-subj",
                        "/CN=localhost"});
      !r)
    return std::unexpected(r.error());
  std::ofstream(dir + "/server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                     << "extendedKeyUsage=serverAuth\n";
  for (const auto& [out, days] :
       {std::pair{pki.server_cert, "1"}, std::pair{pki.expired_cert, "-1"}}) {
    if (auto r = openssl({"x509", "-req", "-in", dir + "/server.csr", "-CA", pki.ca_cert, "-CAkey",
                          dir + "/ca.key", "-CAcreateserial", "-out", out, "-days", days,
                          "-extfile", dir + "/server.ext"});
        !r)
      return std::unexpected(r.error());
  }
  return pki;
}

}  // namespace zc::bench
