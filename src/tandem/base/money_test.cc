#include "tandem/base/money.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace tandem {
namespace {

TEST(Money, AddsAmountsOfOneCurrency) {
  Result<Money> sum = AddMoney({1290, "MYR"}, {800, "MYR"});
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->amount, 2090);
  EXPECT_EQ(sum->currency, "MYR");
}

TEST(Money, RefusesToAddDifferentCurrencies) {
  Result<Money> sum = AddMoney({1, "MYR"}, {1, "SGD"});
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.status().code(), Code::kInvalidArgument);
}

TEST(Money, RefusesOverflow) {
  EXPECT_FALSE(AddMoney({INT64_MAX, "MYR"}, {1, "MYR"}).ok());
  EXPECT_FALSE(MultiplyMoney({INT64_MAX / 2, "MYR"}, 3).ok());
  Result<Money> product = MultiplyMoney({2990, "MYR"}, 3);
  ASSERT_TRUE(product.ok());
  EXPECT_EQ(product->amount, 8970);
}

TEST(Money, KnowsCurrencyCodes) {
  EXPECT_TRUE(IsCurrencyCode("MYR"));
  EXPECT_FALSE(IsCurrencyCode("myr"));
  EXPECT_FALSE(IsCurrencyCode("MY"));
  EXPECT_FALSE(IsCurrencyCode("MYRR"));
}

TEST(Check, FailedCheckThrowsAndIsCounted) {
  uint64_t before = CheckFailureCount();
  EXPECT_THROW(TANDEM_CHECK(1 + 1 == 3), CheckFailure);
  EXPECT_EQ(CheckFailureCount(), before + 1);
  EXPECT_NO_THROW(TANDEM_CHECK(1 + 1 == 2));
}

TEST(Check, UnexpectedIsCountedAndGoesOn) {
  uint64_t before = UnexpectedCount();
  TANDEM_UNEXPECTED("a test says so");
  EXPECT_EQ(UnexpectedCount(), before + 1);
}

}  // namespace
}  // namespace tandem
