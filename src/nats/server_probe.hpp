// src/nats/server_probe.hpp: why a URL reached no NATS server, in the user's terms.
#pragma once

#include <string>
#include <string_view>

namespace zc::nats::detail {

// Connects to the URL's host and port and reads its first bytes: "nothing listens on H:P",
// "H:P answered, but not as a NATS server (it sent "HTTP/1.1 400 ...")", or empty when it looks
// like NATS (or cannot be told). Waits at most about two seconds.
std::string explain_unreachable(std::string_view url);

}  // namespace zc::nats::detail
