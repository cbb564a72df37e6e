#include "zcopy/http/http_date.hpp"

#include <cstdio>
#include <ctime>

namespace zc::http {
namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                     "Thursday", "Friday", "Saturday"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

std::tm utc(std::int64_t epoch_seconds) {
  const std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  return tm;
}

// A cursor over the text that fails softly: every step returns false on a mismatch.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool literal(std::string_view expected) {
    if (text_.substr(pos_, expected.size()) != expected) return false;
    pos_ += expected.size();
    return true;
  }
  // Exactly `digits` decimal digits (or 1..2 when `digits` is 0, for asctime's day).
  bool number(int digits, int& value) {
    value = 0;
    int seen = 0;
    const int max = digits == 0 ? 2 : digits;
    while (seen < max && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      value = value * 10 + (text_[pos_] - '0');
      ++pos_;
      ++seen;
    }
    return digits == 0 ? seen >= 1 : seen == digits;
  }
  template <std::size_t N>
  bool one_of(const char* const (&names)[N], int& index) {
    for (std::size_t i = 0; i < N; ++i) {
      if (literal(names[i])) {
        index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }
  bool done() const { return pos_ == text_.size(); }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

bool time_of_day(Scanner& s, std::tm& tm) {
  return s.number(2, tm.tm_hour) && s.literal(":") && s.number(2, tm.tm_min) && s.literal(":") &&
         s.number(2, tm.tm_sec);
}

std::optional<std::int64_t> to_epoch(std::tm tm, int weekday) {
  if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
    return std::nullopt;
  const int day = tm.tm_mday;
  const std::time_t t = ::timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  // timegm normalises 31 Feb into March; a date that moved or names the wrong weekday is bogus.
  const std::tm check = utc(static_cast<std::int64_t>(t));
  if (check.tm_mday != day || check.tm_wday != weekday) return std::nullopt;
  return static_cast<std::int64_t>(t);
}

std::optional<std::int64_t> parse_imf(std::string_view text) {
  Scanner s(text);
  std::tm tm{};
  int weekday = 0;
  if (!s.one_of(kDays, weekday) || !s.literal(", ") || !s.number(2, tm.tm_mday) ||
      !s.literal(" ") || !s.one_of(kMonths, tm.tm_mon) || !s.literal(" ") ||
      !s.number(4, tm.tm_year) || !s.literal(" ") || !time_of_day(s, tm) || !s.literal(" GMT") ||
      !s.done())
    return std::nullopt;
  tm.tm_year -= 1900;
  return to_epoch(tm, weekday);
}

std::optional<std::int64_t> parse_rfc850(std::string_view text) {
  Scanner s(text);
  std::tm tm{};
  int weekday = 0;
  if (!s.one_of(kLongDays, weekday) || !s.literal(", ") || !s.number(2, tm.tm_mday) ||
      !s.literal("-") || !s.one_of(kMonths, tm.tm_mon) || !s.literal("-") ||
      !s.number(2, tm.tm_year) || !s.literal(" ") || !time_of_day(s, tm) || !s.literal(" GMT") ||
      !s.done())
    return std::nullopt;
  // Two-digit years: RFC 7231 says to read a year more than 50 years ahead as the past century.
  std::tm now = utc(static_cast<std::int64_t>(std::time(nullptr)));
  int year = 1900 + now.tm_year - (now.tm_year % 100) + tm.tm_year;
  if (year > 1900 + now.tm_year + 50) year -= 100;
  tm.tm_year = year - 1900;
  return to_epoch(tm, weekday);
}

std::optional<std::int64_t> parse_asctime(std::string_view text) {
  Scanner s(text);
  std::tm tm{};
  int weekday = 0;
  if (!s.one_of(kDays, weekday) || !s.literal(" ") || !s.one_of(kMonths, tm.tm_mon) ||
      !s.literal(" "))
    return std::nullopt;
  s.literal(" ");  // a one-digit day is padded with a space
  if (!s.number(0, tm.tm_mday) || !s.literal(" ") || !time_of_day(s, tm) || !s.literal(" ") ||
      !s.number(4, tm.tm_year) || !s.done())
    return std::nullopt;
  tm.tm_year -= 1900;
  return to_epoch(tm, weekday);
}

}  // namespace

std::string format_http_date(std::int64_t epoch_seconds) {
  const std::tm tm = utc(epoch_seconds);
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return text;
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  if (auto t = parse_imf(text)) return t;
  if (auto t = parse_rfc850(text)) return t;
  return parse_asctime(text);
}

std::string format_log_date(std::int64_t epoch_seconds) {
  const std::tm tm = utc(epoch_seconds);
  char text[40];
  std::snprintf(text, sizeof text, "%02d/%s/%04d:%02d:%02d:%02d +0000", tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return text;
}

}  // namespace zc::http
