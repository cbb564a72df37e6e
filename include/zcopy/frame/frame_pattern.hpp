// zcopy/frame/frame_pattern.hpp: a test picture that shows tearing: every row carries the frame id.
//
//   zc::render_frame_pattern(back->bytes, row_bytes, frame_id);   // producer
//   if (!zc::frame_pattern_intact(front, row_bytes, frame_id)) ++torn;   // compositor
//
// Each row starts and ends with the frame id (8 bytes, native order) and is filled in between with
// a shade that moves with the frame id and the row, so a video of the frames shows motion. A frame
// whose rows name different ids was read while being written: torn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace zc {

// Fills `frame` (rows of `row_bytes`, row_bytes >= 8) with frame `frame_id`'s picture.
void render_frame_pattern(std::span<std::byte> frame, std::size_t row_bytes,
                          std::uint64_t frame_id) noexcept;

// Row `row_index` of that picture into `row` (row.size() >= 8), e.g. a sensor's line buffer.
void render_frame_pattern_row(std::span<std::byte> row, std::size_t row_index,
                              std::uint64_t frame_id) noexcept;

// The frame id every row names, or std::nullopt when rows disagree (a torn frame) or the frame
// has no full row.
std::optional<std::uint64_t> frame_pattern_id(std::span<const std::byte> frame,
                                              std::size_t row_bytes) noexcept;

}  // namespace zc
