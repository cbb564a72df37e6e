// zcopy/http/client/printable.hpp: text from outside made safe to show on a terminal.
//
//   std::fprintf(stderr, "%s\n", zc::http::printable(error.message()).c_str());
//
// A server chooses file names, reason phrases, Content-Types and listing entries; printed as they
// are, an ESC or a C1 control (U+0080..U+009F, or a lone 0x9B byte, which some terminals take for
// CSI) would reach the terminal and could move the cursor, retitle the window or rewrite lines.
// printable() keeps valid UTF-8 text and replaces every C0 control, DEL, C1 control and byte
// that is not part of valid UTF-8 with "\xHH". The result is valid UTF-8, so it is also safe in
// a JSON string. Text that is already printable comes back unchanged.
#pragma once

#include <string>
#include <string_view>

namespace zc::http {

std::string printable(std::string_view text);

}  // namespace zc::http
