#include "tandem/documents/format.h"

#include <array>
#include <chrono>
#include <cstdio>

namespace tandem::documents {
namespace {

constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

struct LocalTime {
  int year = 0;
  unsigned month = 0;  // 1..12
  unsigned day = 0;
  int64_t minute_of_day = 0;
};

LocalTime ToLocal(int64_t at_ms, int utc_offset_minutes) {
  using namespace std::chrono;
  const sys_time<milliseconds> local{milliseconds{at_ms} + minutes{utc_offset_minutes}};
  const sys_days day = floor<days>(local);
  const year_month_day ymd{day};
  return LocalTime{int{ymd.year()}, unsigned{ymd.month()}, unsigned{ymd.day()},
                   duration_cast<minutes>(local - day).count()};
}

// The code point of each WinAnsi byte 0x80..0x9F (0 where the byte is unassigned).
constexpr std::array<char32_t, 32> kWinAnsiHigh = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

char WinAnsiByte(char32_t cp) {
  if (cp < 0x20 || cp == 0x7F) return ' ';
  if (cp < 0x7F) return static_cast<char>(cp);
  if (cp >= 0xA0 && cp <= 0xFF) return static_cast<char>(cp);
  for (size_t i = 0; i < kWinAnsiHigh.size(); ++i) {
    if (kWinAnsiHigh[i] != 0 && kWinAnsiHigh[i] == cp) return static_cast<char>(0x80 + i);
  }
  return '?';
}

// Decodes one code point at `utf8[*at]` and advances `*at`; U+FFFD for a malformed sequence
// (which then consumes one byte).
char32_t NextCodePoint(std::string_view utf8, size_t* at) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(utf8[i]); };
  const unsigned char lead = byte(*at);
  int extra = 0;
  char32_t cp = 0;
  if (lead < 0x80) {
    ++*at;
    return lead;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    extra = 1;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    extra = 2;
    cp = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    extra = 3;
    cp = lead & 0x07;
  } else {
    ++*at;
    return 0xFFFD;
  }
  if (*at + extra >= utf8.size()) {  // the sequence is cut short
    ++*at;
    return 0xFFFD;
  }
  for (int i = 1; i <= extra; ++i) {
    const unsigned char next = byte(*at + i);
    if ((next & 0xC0) != 0x80) {
      ++*at;
      return 0xFFFD;
    }
    cp = (cp << 6) | (next & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are malformed too.
  const char32_t min_by_length[] = {0, 0x80, 0x800, 0x10000};
  if (cp < min_by_length[extra] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
    ++*at;
    return 0xFFFD;
  }
  *at += extra + 1;
  return cp;
}

std::string GroupThousands(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  const size_t first = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  out.append(digits, 0, first);
  for (size_t i = first; i < digits.size(); i += 3) {
    out.push_back(',');
    out.append(digits, i, 3);
  }
  return out;
}

}  // namespace

int CurrencyMinorDigits(std::string_view currency) {
  for (std::string_view none : {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG"}) {
    if (currency == none) return 0;
  }
  for (std::string_view three : {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}) {
    if (currency == three) return 3;
  }
  return 2;
}

std::string FormatMoney(const Money& money) {
  const bool negative = money.amount < 0;
  // The magnitude as unsigned, so that INT64_MIN has one too.
  const uint64_t magnitude =
      negative ? uint64_t{0} - static_cast<uint64_t>(money.amount) : uint64_t(money.amount);
  const int digits = CurrencyMinorDigits(money.currency);
  uint64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  std::string number = GroupThousands(magnitude / scale);
  if (digits > 0) {
    std::string fraction = std::to_string(magnitude % scale);
    number += '.' + std::string(digits - fraction.size(), '0') + fraction;
  }
  std::string symbol;
  if (money.currency == "MYR") {
    symbol = "RM";
  } else {
    symbol = money.currency;
  }
  return (negative ? "-" : "") + symbol + " " + number;
}

std::string FormatDate(int64_t at_ms, int utc_offset_minutes) {
  const LocalTime t = ToLocal(at_ms, utc_offset_minutes);
  char out[32];
  std::snprintf(out, sizeof out, "%u %s %d", t.day, kMonths[t.month - 1], t.year);
  return out;
}

std::string FormatDateTime(int64_t at_ms, int utc_offset_minutes) {
  const LocalTime t = ToLocal(at_ms, utc_offset_minutes);
  char out[48];
  std::snprintf(out, sizeof out, "%u %s %d, %02d:%02d", t.day, kMonths[t.month - 1], t.year,
                static_cast<int>(t.minute_of_day / 60), static_cast<int>(t.minute_of_day % 60));
  return out;
}

std::string FormatRate(int basis_points) {
  std::string out = std::to_string(basis_points / 100);
  int fraction = basis_points % 100;
  if (fraction != 0) {
    out += '.';
    out += static_cast<char>('0' + fraction / 10);
    if (fraction % 10 != 0) out += static_cast<char>('0' + fraction % 10);
  }
  return out + "%";
}

std::string ToWinAnsi(std::string_view utf8, std::vector<size_t>* starts) {
  std::string out;
  out.reserve(utf8.size());
  if (starts != nullptr) starts->clear();
  size_t at = 0;
  while (at < utf8.size()) {
    if (starts != nullptr) starts->push_back(at);
    out.push_back(WinAnsiByte(NextCodePoint(utf8, &at)));
  }
  return out;
}

}  // namespace tandem::documents
