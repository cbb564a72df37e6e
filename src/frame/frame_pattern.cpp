// The tear-revealing test picture: the frame id at both ends of every row.
#include "zcopy/frame/frame_pattern.hpp"

#include <cstring>

namespace zc {

void render_frame_pattern_row(std::span<std::byte> row, std::size_t row_index,
                              std::uint64_t frame_id) noexcept {
  if (row.size() < sizeof frame_id) return;
  const auto shade = static_cast<unsigned char>((row_index + frame_id * 4) & 0xff);
  std::memset(row.data(), shade, row.size());
  std::memcpy(row.data(), &frame_id, sizeof frame_id);
  std::memcpy(row.data() + row.size() - sizeof frame_id, &frame_id, sizeof frame_id);
}

void render_frame_pattern(std::span<std::byte> frame, std::size_t row_bytes,
                          std::uint64_t frame_id) noexcept {
  if (row_bytes < sizeof frame_id) return;
  const std::size_t rows = frame.size() / row_bytes;
  for (std::size_t r = 0; r < rows; ++r) {
    render_frame_pattern_row(frame.subspan(r * row_bytes, row_bytes), r, frame_id);
  }
}

std::optional<std::uint64_t> frame_pattern_id(std::span<const std::byte> frame,
                                              std::size_t row_bytes) noexcept {
  if (row_bytes < sizeof(std::uint64_t) || frame.size() < row_bytes) return std::nullopt;
  std::uint64_t first = 0;
  std::memcpy(&first, frame.data(), sizeof first);
  const std::size_t rows = frame.size() / row_bytes;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::byte* row = frame.data() + r * row_bytes;
    std::uint64_t head = 0;
    std::uint64_t tail = 0;
    std::memcpy(&head, row, sizeof head);
    std::memcpy(&tail, row + row_bytes - sizeof tail, sizeof tail);
    if (head != first || tail != first) return std::nullopt;
  }
  return first;
}

}  // namespace zc
