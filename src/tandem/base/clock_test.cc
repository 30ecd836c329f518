#include "tandem/base/clock.h"

#include <gtest/gtest.h>

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

TEST(Timestamp, RefusesWhatIsNotRfc3339Utc) {
  EXPECT_FALSE(ParseTimestamp("2026-11-18 10:26:40Z").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-11-18T11:06:40+08:00").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-13-18T10:26:40Z").has_value());
  EXPECT_FALSE(ParseTimestamp("yesterday").has_value());
  EXPECT_FALSE(ParseTimestamp("2026-11-18T11:06:40.Z").has_value());
}

}  // namespace
}  // namespace tandem
