// src/http/server/respond.hpp: from a parsed request to the response that answers it.
#pragma once

#include <string>
#include <string_view>

#include "connection.hpp"
#include "server_state.hpp"
#include "zcopy/http/server/request_parser.hpp"

namespace zc::http {

std::string_view reason_phrase(int status) noexcept;

// Fills `out` for `request` against the served directory. `date_field` is the cached
// "Date: ...\r\n" line. Opens the file to send, if any.
void build_response(const Request& request, SharedState& shared, std::string_view date_field,
                    Response& out);

// A short text/plain error; `close` adds "Connection: close" and ends the connection after it.
void build_error(int status, bool head_only, bool close, std::string_view date_field, Response& out,
                 std::string_view extra_fields = {});

}  // namespace zc::http
