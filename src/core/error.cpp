#include "zcopy/core/error.hpp"

#include <cstring>
#include <utility>

namespace zc {

std::string_view to_string(Errc code) noexcept {
  switch (code) {
    case Errc::system:
      return "system error";
    case Errc::invalid_argument:
      return "invalid argument";
    case Errc::capability_missing:
      return "capability missing";
    case Errc::limit_exceeded:
      return "limit exceeded";
    case Errc::corrupt:
      return "corrupt data";
    case Errc::exhausted:
      return "exhausted";
    case Errc::rejected:
      return "rejected";
    case Errc::timeout:
      return "timed out";
    case Errc::closed:
      return "closed";
    case Errc::usage:
      return "usage error";
  }
  return "unknown error";
}

Error Error::from_errno(int errno_value, std::string operation, std::string detail) {
  return Error(Errc::system, errno_value, std::move(operation), std::move(detail));
}

Error Error::make(Errc code, std::string operation, std::string detail) {
  return Error(code, 0, std::move(operation), std::move(detail));
}

std::string Error::message() const {
  std::string line = operation_;
  if (!line.empty()) line += ": ";
  if (!detail_.empty()) {
    line += detail_;
  } else if (errno_ == 0) {
    line += to_string(code_);
  }
  if (errno_ != 0) {
    if (!detail_.empty()) line += " (";
    line += std::strerror(errno_);
    if (!detail_.empty()) line += ")";
    if (const char* name = strerrorname_np(errno_)) {
      line += " [";
      line += name;
      line += "]";
    }
  }
  return line;
}

Error Error::with_context(std::string_view context) && {
  std::string op(context);
  if (!operation_.empty()) {
    op += ": ";
    op += operation_;
  }
  operation_ = std::move(op);
  return std::move(*this);
}

}  // namespace zc
