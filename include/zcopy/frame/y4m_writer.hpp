// zcopy/frame/y4m_writer.hpp: shown frames saved as a YUV4MPEG2 video (ffmpeg, ffprobe and mpv
// read it).
//
//   auto video = zc::Y4mWriter::create("shown.y4m", 1920, 1080, 60);
//   video->write_frame(chain.front_bytes(), row_bytes, 4);   // once per tick
//   video->finish();                                          // only now is shown.y4m there
//
// The frames go to "<path>.part", renamed to `path` by finish(), so a run that fails or is
// interrupted never leaves a partial video under the name asked for. Pixels are taken as bytes
// per pixel 1 (grey), 3 (RGB) or 4 (RGBA); the video is 4:4:4 (C444) with luma computed from the
// RGB and neutral chroma, the one copy this program makes, and only for the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "zcopy/core/error.hpp"
#include "zcopy/core/fd.hpp"

namespace zc {

class Y4mWriter {
 public:
  // Errc::invalid_argument for a zero size or rate.
  static Result<Y4mWriter> create(const std::string& path, std::uint32_t width,
                                  std::uint32_t height, std::uint32_t fps);

  Y4mWriter(Y4mWriter&&) noexcept = default;
  Y4mWriter& operator=(Y4mWriter&&) noexcept = default;
  ~Y4mWriter();  // removes the .part file unless finish() ran

  Result<void> write_frame(std::span<const std::byte> frame, std::size_t row_bytes,
                           std::uint32_t bytes_per_pixel);
  // Renames the .part file to the path asked for.
  Result<void> finish();
  std::uint64_t frames() const noexcept { return frames_; }

 private:
  Y4mWriter(Fd fd, std::string path, std::uint32_t width, std::uint32_t height);
  Result<void> write_all(std::span<const std::byte> bytes);

  Fd fd_;
  std::string path_;
  std::uint32_t width_ = 0;
  std::uint32_t height_ = 0;
  std::uint64_t frames_ = 0;
  bool finished_ = false;
  std::vector<std::byte> planes_;  // one frame, Y then U then V
};

}  // namespace zc
