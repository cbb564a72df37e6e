// src/nats/nats_status.cpp: natsStatus to zc::Error.
#include "nats_status.hpp"

namespace zc::nats {

Error nats_error(natsStatus status, std::string operation) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  std::string detail = (text != nullptr && *text != '\0' && last == status)
                           ? std::string(text)
                           : std::string(natsStatus_GetText(status));
  // libnats puts its source position first ("(conn.c:2088): ..."): not for the user.
  if (detail.starts_with("(")) {
    if (const std::size_t end = detail.find("): "); end != std::string::npos) {
      detail.erase(0, end + 3);
    }
  }
  switch (status) {
    case NATS_CONNECTION_AUTH_FAILED:
      return Error::make(Errc::rejected, std::move(operation),
                         "the server refused our credentials (" + detail + ")");
    case NATS_NOT_PERMITTED:
      return Error::make(Errc::rejected, std::move(operation),
                         "not permitted by the server (" + detail + ")");
    case NATS_NO_SERVER:
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
      return Error::make(Errc::closed, std::move(operation), std::move(detail));
    case NATS_PROTOCOL_ERROR:
      return Error::make(Errc::corrupt, std::move(operation),
                         "the peer does not speak the NATS protocol (" + detail + ")");
    case NATS_TIMEOUT:
      return Error::make(Errc::timeout, std::move(operation), std::move(detail));
    case NATS_MAX_PAYLOAD:
      return Error::make(Errc::limit_exceeded, std::move(operation), std::move(detail));
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT:
    case NATS_ILLEGAL_STATE:
      return Error::make(Errc::invalid_argument, std::move(operation), std::move(detail));
    case NATS_SSL_ERROR:
    case NATS_SECURE_CONNECTION_REQUIRED:
      return Error::make(Errc::rejected, std::move(operation), "TLS: " + detail);
    default:
      return Error::make(Errc::closed, std::move(operation), std::move(detail));
  }
}

}  // namespace zc::nats
