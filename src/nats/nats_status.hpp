// src/nats/nats_status.hpp: libnats' natsStatus as a zc::Error.
#pragma once

#include <nats/nats.h>

#include <string>

#include "zcopy/core/error.hpp"

namespace zc::nats {

// The error for a failed libnats call `operation`: the status decides the Errc (refused
// credentials or permissions: rejected; no server: closed; a peer that does not speak NATS:
// corrupt; a wait: timeout), the client's own last error text is the detail.
Error nats_error(natsStatus status, std::string operation);

}  // namespace zc::nats
