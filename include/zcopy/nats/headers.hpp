// zcopy/nats/headers.hpp: the NATS headers an exported message carries, read back on import.
//
//   Zcopy-Sequence: 41          the channel's sequence number of the message
//   Zcopy-Published: 1733...    when the exporter published it, ns since the epoch (CLOCK_REALTIME)
//   Zcopy-Host: build-7         the exporting machine's host name
//
// A consumer that is not zcopy sees ordinary NATS headers; an importer uses the sequence to count
// what core NATS lost while a server was unreachable.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace zc::nats {

inline constexpr const char* kSequenceHeader = "Zcopy-Sequence";
inline constexpr const char* kPublishedHeader = "Zcopy-Published";
inline constexpr const char* kHostHeader = "Zcopy-Host";

// A header value as an unsigned decimal number; std::nullopt unless it is one (digits only, no
// sign, no overflow).
std::optional<std::uint64_t> parse_header_number(std::string_view text) noexcept;

}  // namespace zc::nats
