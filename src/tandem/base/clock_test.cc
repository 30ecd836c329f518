#include "tandem/base/clock.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <string>

namespace tandem {
namespace {

TEST(Timestamp, FormatsAndParsesRoundTrip) {
  int64_t ms = 1795000000123;
  std::string text = FormatTimestamp(ms);
  EXPECT_EQ(text, "2026-11-18T11:06:40.123Z");
  EXPECT_EQ(ParseTimestamp(text), ms);
  EXPECT_EQ(ParseTimestamp("2026-11-18T11:06:40Z"), 1795000000000);
  EXPECT_EQ(ParseTimestamp("2026-11-18T11:06:40.5Z"), 1795000000500);
}

// The civil-date arithmetic (FormatTimestamp, YearOf) against the C library's, over leap days,
// century years and times before 1970.
TEST(Timestamp, FormatsAsGmtimeDoes) {
  auto reference = [](int64_t ms) {
    int64_t secs = ms / 1000, rest = ms % 1000;
    if (rest < 0) rest += 1000, secs -= 1;
    std::time_t t = static_cast<std::time_t>(secs);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(rest));
    return std::string(buf);
  };
  for (int64_t ms : {int64_t{0}, int64_t{-1}, int64_t{951782400000} /* 2000-02-29 */,
                     int64_t{4107542399999} /* 2100-02-28T23:59:59.999 */,
                     int64_t{253402300799999} /* 9999-12-31T23:59:59.999 */}) {
    EXPECT_EQ(FormatTimestamp(ms), reference(ms)) << ms;
  }
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> any(-2208988800000, 253402300799999);  // 1900 to 9999
  for (int i = 0; i < 20000; ++i) {
    int64_t ms = any(rng);
    ASSERT_EQ(FormatTimestamp(ms), reference(ms)) << ms;
    ASSERT_EQ(YearOf(ms), std::stoi(reference(ms).substr(0, 4))) << ms;
  }
}

TEST(Timestamp, RefusesWhatIsNotRfc3339Utc) {
  EXPECT_FALSE(ParseTimestamp("2026-11-18 10:26:40Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-11-18T11:06:40+08:00").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-13-18T10:26:40Z").has_value());
  EXPECT_FALSE(ParseTimestamp("yesterday").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-11-18T11:06:40.Z").has_value());
}

}  // namespace
}  // namespace tandem
