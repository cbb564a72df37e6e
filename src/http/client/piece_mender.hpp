// src/http/client/piece_mender.hpp: the piece hashes of a Metalink, checked and mended in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zcopy/core/transfer_ledger.hpp"
#include "zcopy/http/client/metalink_download.hpp"

namespace zc::http::detail {

// The first of the Metalink pieces lying wholly within bytes [first, last] of `fd` (`size` bytes
// in all) whose hash does not match, or nullopt when all match; read from the page cache, the
// hashing added to `ledger`.
Result<std::optional<std::size_t>> first_bad_piece(int fd, const MetalinkPieces& pieces,
                                                   std::uint64_t size, std::uint64_t first,
                                                   std::uint64_t last, TransferLedger& ledger);

// Hashes each piece of `fd` (open read-write, `size` bytes, all fetched from urls[writer]) where
// it lies in the page cache; a bad piece is fetched again by range from the other URLs in turn,
// written in place and hashed again. A source that sent options.bad_piece_limit bad pieces is
// asked no more. Returns a note on what was mended ("" when every piece matched); fails, naming
// the piece, when no source left has it right. Hashing and mending are added to `ledger`.
Result<std::string> mend_pieces(int fd, const std::string& shown, const MetalinkPieces& pieces,
                                std::uint64_t size, const std::vector<Url>& urls,
                                std::size_t writer, const MetalinkOptions& options,
                                TransferLedger& ledger);

}  // namespace zc::http::detail
