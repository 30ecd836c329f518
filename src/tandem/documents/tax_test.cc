#include "tandem/documents/tax.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "tandem/base/check.h"
#include "tandem/base/limits.h"

namespace tandem::documents {
namespace {

Money Myr(int64_t amount) { return Money{amount, "MYR"}; }

TEST(TaxContained, FindsSixPercentSstInsideATaxInclusivePrice) {
  EXPECT_EQ(TaxContained(Myr(10000), 600), Myr(566));   // 10000 × 600 / 10600 = 566.04
  EXPECT_EQ(TaxContained(Myr(10600), 600), Myr(600));   // exactly 6 % on RM 100.00
  EXPECT_EQ(TaxContained(Myr(5300), 600), Myr(300));
  EXPECT_EQ(TaxContained(Myr(1250), 800), Myr(93));     // 1250 × 800 / 10800 = 92.59
}

TEST(TaxContained, RoundsToTheNearestSenWithHalvesUp) {
  EXPECT_EQ(TaxContained(Myr(8), 600), Myr(0));   // 0.453
  EXPECT_EQ(TaxContained(Myr(9), 600), Myr(1));   // 0.509
  EXPECT_EQ(TaxContained(Myr(1), 10000), Myr(1));  // exactly 0.5
  EXPECT_EQ(TaxContained(Myr(3), 10000), Myr(2));  // exactly 1.5
  EXPECT_EQ(TaxContained(Myr(2), 10000), Myr(1));
}

TEST(TaxContained, MirrorsARefundExactly) {
  EXPECT_EQ(TaxContained(Myr(-10000), 600), Myr(-566));
  EXPECT_EQ(TaxContained(Myr(-1), 10000), Myr(-1));
  EXPECT_EQ(TaxContained(Myr(-9), 600), Myr(-1));
}

TEST(TaxContained, IsZeroWithoutTaxOrAmount) {
  EXPECT_EQ(TaxContained(Myr(12345), 0), Myr(0));
  EXPECT_EQ(TaxContained(Myr(0), 600), Myr(0));
}

TEST(TaxContained, KeepsTheCurrency) {
  EXPECT_EQ(TaxContained(Money{10900, "SGD"}, 900), (Money{900, "SGD"}));
}

TEST(TaxContained, DoesNotOverflowAtTheEndsOfInt64) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(TaxContained(Myr(max), kTaxRateBasisPointsMax), Myr(max / 2 + 1));  // x.5 up
  EXPECT_EQ(TaxContained(Myr(std::numeric_limits<int64_t>::min()), kTaxRateBasisPointsMax),
            Myr(std::numeric_limits<int64_t>::min() / 2));
}

TEST(TaxContained, RefusesARateOutsideZeroToOneHundredPercent) {
  EXPECT_EQ(TaxContained(Myr(200), kTaxRateBasisPointsMax), Myr(100));
  EXPECT_THROW(TaxContained(Myr(100), kTaxRateBasisPointsMax + 1), CheckFailure);
  EXPECT_THROW(TaxContained(Myr(100), -1), CheckFailure);
}

}  // namespace
}  // namespace tandem::documents
