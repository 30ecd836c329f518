#include "tandem/base/clock.h"

#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace tandem {

int64_t SystemClock::NowMs() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Written digit by digit from the civil date (no gmtime_r or snprintf): every order and cart
// answer carries a few timestamps, written on the thread that answers durable writes.
std::string FormatTimestamp(int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> at{milliseconds(unix_ms)};
  const sys_days day = floor<days>(at);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> time{at - day};
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&out](size_t pos, int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) out[pos + i] = char('0' + value % 10);
  };
  put(0, static_cast<int>(date.year()), 4);
  put(5, static_cast<unsigned>(date.month()), 2);
  put(8, static_cast<unsigned>(date.day()), 2);
  put(11, time.hours().count(), 2);
  put(14, time.minutes().count(), 2);
  put(17, time.seconds().count(), 2);
  put(20, time.subseconds().count(), 3);
  return out;
}

std::optional<int64_t> ParseTimestamp(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, consumed = 0;
  if (text.size() > 40 || std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month,
                                      &day, &hour, &minute, &second, &consumed) != 6) {
    return std::nullopt;
  }
  if (consumed != 19 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60 || year < 1970 || year > 9999) {
    return std::nullopt;
  }
  int64_t ms = 0;
  size_t i = 19;
  if (i < text.size() && text[i] == '.') {
    int digits = 0;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      if (digits < 3) ms = ms * 10 + (text[i] - '0');
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  if (i + 1 != text.size() || text[i] != 'Z') return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

int YearOf(int64_t unix_ms) {
  using namespace std::chrono;
  const year_month_day date{floor<days>(sys_time<milliseconds>{milliseconds(unix_ms)})};
  return static_cast<int>(date.year());
}

}  // namespace tandem
