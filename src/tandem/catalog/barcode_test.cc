#include "tandem/catalog/barcode.h"

#include <gtest/gtest.h>

#include "tandem/base/check.h"

namespace tandem::catalog {
namespace {

// Published codes: GS1's example, Wikipedia's EAN-13 example (a Stabilo pen), the ISBN-13
// examples of ISO 2108 / Wikipedia and "Design Patterns" (0-201-63361-2), a UPC-A code as GTIN-13.
constexpr const char* kRealCodes[] = {"5901234123457", "4006381333931", "9780306406157",
                                      "9780201633610", "0036000291452"};

TEST(Ean13, AcceptsRealWorldCodes) {
  for (const char* code : kRealCodes) EXPECT_TRUE(ValidEan13(code)) << code;
}

TEST(Ean13, ComputesTheCheckDigitOfRealWorldCodes) {
  for (std::string code : kRealCodes) {
    EXPECT_EQ(Ean13CheckDigit(code.substr(0, 12)), code[12]) << code;
  }
  EXPECT_EQ(Ean13CheckDigit("000000000000"), '0');
  EXPECT_EQ(Ean13CheckDigit("000000000001"), '7');  // a digit in an even position weighs 3
  EXPECT_EQ(Ean13CheckDigit("100000000000"), '9');  // and one in an odd position 1
}

TEST(Ean13, RefusesEveryWrongCheckDigit) {
  for (std::string code : kRealCodes) {
    const char check = code[12];
    for (char d = '0'; d <= '9'; ++d) {
      if (d == check) continue;
      code[12] = d;
      EXPECT_FALSE(ValidEan13(code)) << code;
    }
  }
}

TEST(Ean13, RefusesASingleMistypedDigitAndSwapsOfNeighbours) {
  const std::string good = "5901234123457";
  for (size_t i = 0; i < 12; ++i) {
    std::string typo = good;
    typo[i] = static_cast<char>('0' + (typo[i] - '0' + 1) % 10);
    EXPECT_FALSE(ValidEan13(typo)) << typo;
  }
  // Swapping neighbours a, b changes the sum by 2(a - b): caught unless they differ by 0 or 5.
  int swaps = 0;
  for (size_t i = 0; i + 1 < 12; ++i) {
    int diff = good[i] - good[i + 1];
    if (diff % 5 == 0) continue;
    std::string swapped = good;
    std::swap(swapped[i], swapped[i + 1]);
    EXPECT_FALSE(ValidEan13(swapped)) << swapped;
    ++swaps;
  }
  EXPECT_GE(swaps, 10);
}

TEST(Ean13, RefusesWrongLengthsAndCharacters) {
  EXPECT_FALSE(ValidEan13(""));
  EXPECT_FALSE(ValidEan13("590123412345"));    // 12 digits
  EXPECT_FALSE(ValidEan13("59012341234570"));  // 14 digits
  EXPECT_FALSE(ValidEan13(" 5901234123457"));
  EXPECT_FALSE(ValidEan13("590123412345 7"));
  EXPECT_FALSE(ValidEan13("590-1234-12345"));
  EXPECT_FALSE(ValidEan13("59012341234a7"));
  EXPECT_FALSE(ValidEan13(std::string_view("590123412345\0", 13)));
}

TEST(Ean13, CheckDigitRequiresTwelveDigits) {
  EXPECT_THROW(Ean13CheckDigit("59012341234"), CheckFailure);
  EXPECT_THROW(Ean13CheckDigit("5901234123457"), CheckFailure);
  EXPECT_THROW(Ean13CheckDigit("59012341234x"), CheckFailure);
}

TEST(MakeEan13, BuildsAValidMalaysianCodeFromPrefixAndNumber) {
  Result<std::string> code = MakeEan13("955", 42);
  ASSERT_TRUE(code.ok()) << code.status().message();
  EXPECT_EQ(*code, "9550000000421");
  EXPECT_TRUE(ValidEan13(*code));
}

TEST(MakeEan13, EveryNumberGivesADistinctValidCode) {
  std::string previous;
  for (int64_t n = 0; n < 2000; ++n) {
    Result<std::string> code = MakeEan13("955", n);
    ASSERT_TRUE(code.ok());
    EXPECT_TRUE(ValidEan13(*code)) << *code;
    EXPECT_EQ(code->substr(0, 3), "955");
    EXPECT_NE(*code, previous);
    previous = *code;
  }
}

TEST(MakeEan13, RefusesBadPrefixesAndNumbersThatDoNotFit) {
  EXPECT_EQ(MakeEan13("", 1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(MakeEan13("95a", 1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(MakeEan13("590123412345", 1).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(MakeEan13("955", -1).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(MakeEan13("955", 999'999'999).ok());  // the 9 digits after the prefix, full
  EXPECT_EQ(MakeEan13("955", 1'000'000'000).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(MakeEan13("59012341234", 5).value(), "5901234123457");  // 11-digit prefix, 1 digit left
}

}  // namespace
}  // namespace tandem::catalog
