// zcopy/secure/ktls.hpp: does this kernel offer kernel TLS (the "tls" upper-layer protocol)?
//
// The probe asks for real: it attaches the TLS ULP to a connected loopback TCP socket, which the
// kernel allows only when it was built with CONFIG_TLS (built in or loadable). Its answer is one
// line either way, for `doctor` and for a Session to say which path its records take.
#pragma once

#include "zcopy/core/error.hpp"

namespace zc::secure {

// Succeeds when the kernel can run TLS records itself; otherwise Errc::capability_missing with
// the reason ("kernel has no TLS upper-layer protocol (CONFIG_TLS) ...").
Result<void> probe_ktls();

}  // namespace zc::secure
