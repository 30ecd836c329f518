#include "tandem/documents/format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace tandem::documents {
namespace {

constexpr int64_t k2026_03_12_1630Z = 1773333000000;  // 12 Mar 2026, 16:30 UTC

TEST(FormatMoney, PrintsRinggitWithTwoDecimalsAndThousands) {
  EXPECT_EQ(FormatMoney(Money{1250, "MYR"}), "RM 12.50");
  EXPECT_EQ(FormatMoney(Money{5, "MYR"}), "RM 0.05");
  EXPECT_EQ(FormatMoney(Money{0, "MYR"}), "RM 0.00");
  EXPECT_EQ(FormatMoney(Money{123456789, "MYR"}), "RM 1,234,567.89");
  EXPECT_EQ(FormatMoney(Money{100000, "MYR"}), "RM 1,000.00");
  EXPECT_EQ(FormatMoney(Money{-500, "MYR"}), "-RM 5.00");
}

TEST(FormatMoney, UsesTheCodeAndMinorDigitsOfOtherCurrencies) {
  EXPECT_EQ(FormatMoney(Money{1200, "SGD"}), "SGD 12.00");
  EXPECT_EQ(FormatMoney(Money{1200, "JPY"}), "JPY 1,200");
  EXPECT_EQ(FormatMoney(Money{1234, "KWD"}), "KWD 1.234");
}

TEST(FormatMoney, PrintsTheExtremesOfInt64) {
  EXPECT_EQ(FormatMoney(Money{std::numeric_limits<int64_t>::min(), "MYR"}),
            "-RM 92,233,720,368,547,758.08");
  EXPECT_EQ(FormatMoney(Money{std::numeric_limits<int64_t>::max(), "MYR"}),
            "RM 92,233,720,368,547,758.07");
}

TEST(FormatDate, UsesTheShopsOffsetAcrossMidnight) {
  EXPECT_EQ(FormatDate(k2026_03_12_1630Z, 0), "12 Mar 2026");
  EXPECT_EQ(FormatDate(k2026_03_12_1630Z, 8 * 60), "13 Mar 2026");  // 00:30 in Kuala Lumpur
  EXPECT_EQ(FormatDate(k2026_03_12_1630Z, -17 * 60), "11 Mar 2026");
  EXPECT_EQ(FormatDate(0, 0), "1 Jan 1970");
  EXPECT_EQ(FormatDate(-1, 0), "31 Dec 1969");
}

TEST(FormatDateTime, AddsHoursAndMinutes) {
  EXPECT_EQ(FormatDateTime(k2026_03_12_1630Z, 0), "12 Mar 2026, 16:30");
  EXPECT_EQ(FormatDateTime(k2026_03_12_1630Z, 8 * 60), "13 Mar 2026, 00:30");
  EXPECT_EQ(FormatDateTime(k2026_03_12_1630Z + 59'999, 5 * 60 + 45), "12 Mar 2026, 22:15");
}

TEST(FormatRate, PrintsOnlyTheDecimalsNeeded) {
  EXPECT_EQ(FormatRate(600), "6%");
  EXPECT_EQ(FormatRate(650), "6.5%");
  EXPECT_EQ(FormatRate(825), "8.25%");
  EXPECT_EQ(FormatRate(5), "0.05%");
  EXPECT_EQ(FormatRate(0), "0%");
  EXPECT_EQ(FormatRate(10000), "100%");
}

TEST(ToWinAnsi, KeepsLatin1AndMapsWindowsPunctuation) {
  EXPECT_EQ(ToWinAnsi("Plain 123"), "Plain 123");
  EXPECT_EQ(ToWinAnsi("caf\xC3\xA9"), "caf\xE9");                  // é
  EXPECT_EQ(ToWinAnsi("a\xE2\x80\x94" "b"), "a\x97" "b");          // em dash
  EXPECT_EQ(ToWinAnsi("\xE2\x82\xAC" "5"), "\x80" "5");            // euro sign
  EXPECT_EQ(ToWinAnsi("\xE2\x80\x9Cq\xE2\x80\x9D"), "\x93q\x94");  // curly quotes
}

TEST(ToWinAnsi, ReplacesWhatItCannotPrint) {
  EXPECT_EQ(ToWinAnsi("hi \xF0\x9F\x8E\x89"), "hi ?");              // an emoji: one '?'
  EXPECT_EQ(ToWinAnsi("\xE9\x99\x90\xE5\xAE\x9A"), "??");           // two CJK characters
  EXPECT_EQ(ToWinAnsi("a\tb\nc"), "a b c");                         // control characters
  EXPECT_EQ(ToWinAnsi(std::string("x\0y", 3)), "x y");              // never a 0 byte
  EXPECT_EQ(ToWinAnsi("\xC3"), "?");                                // cut short
  EXPECT_EQ(ToWinAnsi("\xC0\xAF"), "??");                           // overlong '/'
  EXPECT_EQ(ToWinAnsi("\xED\xA0\x80"), "???");                      // a surrogate
  EXPECT_EQ(ToWinAnsi("\xFF" "a"), "?a");
}

TEST(ToWinAnsi, ReportsWhereEachCharacterStarts) {
  std::vector<size_t> starts;
  EXPECT_EQ(ToWinAnsi("a\xC3\xA9\xF0\x9F\x8E\x89z", &starts), "a\xE9?z");
  EXPECT_EQ(starts, (std::vector<size_t>{0, 1, 3, 7}));
}

}  // namespace
}  // namespace tandem::documents
