// Y4mWriter: YUV4MPEG2 C444 frames into a .part file renamed at the end.
#include "zcopy/frame/y4m_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "zcopy/core/syscall.hpp"

namespace zc {

Y4mWriter::Y4mWriter(Fd fd, std::string path, std::uint32_t width, std::uint32_t height)
    : fd_(std::move(fd)), path_(std::move(path)), width_(width), height_(height) {}

Y4mWriter::~Y4mWriter() {
  if (fd_.valid() && !finished_) (void)::unlink((path_ + ".part").c_str());
}

Result<Y4mWriter> Y4mWriter::create(const std::string& path, std::uint32_t width,
                                    std::uint32_t height, std::uint32_t fps) {
  if (width == 0 || height == 0 || fps == 0) {
    return fail(Errc::invalid_argument, "y4m " + path, "size and rate must be positive");
  }
  auto fd = Fd::open(path + ".part", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!fd) return std::unexpected(std::move(fd.error()));
  Y4mWriter writer(std::move(*fd), path, width, height);
  char header[128];
  const int n = std::snprintf(header, sizeof header, "YUV4MPEG2 W%u H%u F%u:1 Ip A1:1 C444\n",
                              width, height, fps);
  auto written = writer.write_all(std::as_bytes(std::span(header, static_cast<std::size_t>(n))));
  if (!written) return std::unexpected(std::move(written.error()));
  writer.planes_.resize(std::size_t{width} * height * 3);
  return writer;
}

Result<void> Y4mWriter::write_all(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    auto n = sys_call({"write", fd_.get()},
                      [&] { return ::write(fd_.get(), bytes.data(), bytes.size()); });
    if (!n) return std::unexpected(std::move(n.error()).with_context("y4m " + path_));
    bytes = bytes.subspan(static_cast<std::size_t>(*n));
  }
  return {};
}

Result<void> Y4mWriter::write_frame(std::span<const std::byte> frame, std::size_t row_bytes,
                                    std::uint32_t bytes_per_pixel) {
  const std::size_t pixels = std::size_t{width_} * height_;
  if (bytes_per_pixel == 0 || bytes_per_pixel > 4 ||
      row_bytes < std::size_t{width_} * bytes_per_pixel || frame.size() < row_bytes * height_) {
    return fail(Errc::invalid_argument, "y4m " + path_,
                "frame of " + std::to_string(frame.size()) + " bytes does not hold " +
                    std::to_string(width_) + "x" + std::to_string(height_) + " pixels");
  }
  std::byte* y = planes_.data();
  for (std::uint32_t r = 0; r < height_; ++r) {
    const auto* row = reinterpret_cast<const unsigned char*>(frame.data() + r * row_bytes);
    for (std::uint32_t x = 0; x < width_; ++x) {
      const unsigned char* p = row + std::size_t{x} * bytes_per_pixel;
      unsigned luma = p[0];
      if (bytes_per_pixel >= 3) luma = (77U * p[0] + 150U * p[1] + 29U * p[2]) >> 8;  // BT.601
      y[std::size_t{r} * width_ + x] = static_cast<std::byte>(luma);
    }
  }
  std::memset(planes_.data() + pixels, 128, pixels * 2);
  static constexpr char kFrame[] = "FRAME\n";
  if (auto ok = write_all(std::as_bytes(std::span(kFrame, sizeof kFrame - 1))); !ok) return ok;
  if (auto ok = write_all(planes_); !ok) return ok;
  ++frames_;
  return {};
}

Result<void> Y4mWriter::finish() {
  const std::string part = path_ + ".part";
  auto renamed = sys_call("rename", [&] { return ::rename(part.c_str(), path_.c_str()); });
  if (!renamed) return std::unexpected(std::move(renamed.error()).with_context("y4m " + path_));
  finished_ = true;
  fd_.reset();
  return {};
}

}  // namespace zc
