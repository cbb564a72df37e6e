// zcopy/http/html_escape.hpp: text made safe to stand in HTML, as element content or inside a
// quoted attribute: & < > " and ' become character references.
//
//   out += "<a href=\"" + zc::http::html_escape(href) + "\">" + zc::http::html_escape(name) +
//   "</a>";
#pragma once

#include <string>
#include <string_view>

namespace zc::http {

std::string html_escape(std::string_view text);

}  // namespace zc::http
