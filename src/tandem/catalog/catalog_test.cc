#include "tandem/catalog/catalog.h"

#include <gtest/gtest.h>

#include "tandem/base/limits.h"

namespace tandem::catalog {
namespace {

Product Valid() {
  Product p;
  p.name = "Batik Tee";
  p.variants.push_back({"BT-NAVY-M", 0, {2990, "MYR"}, {{"colour", "navy"}}, "/img/bt.jpg", true});
  return p;
}

TEST(SearchTerms, SplitsTextIntoWordsAndDropsEverythingElse) {
  EXPECT_EQ(SearchTerms("batik tee"), (std::vector<std::string>{"batik", "tee"}));
  EXPECT_TRUE(SearchTerms("  ").empty());
  EXPECT_EQ(SearchTerms("\"drop table\" OR *"),
            (std::vector<std::string>{"drop", "table", "OR"}));
  EXPECT_EQ(SearchTerms("kain-songket"), (std::vector<std::string>{"kain", "songket"}));
}

TEST(SearchTerms, UsesAtMostTheTermLimit) {
  std::string many;
  for (int i = 0; i < 20; ++i) many += "w" + std::to_string(i) + " ";
  EXPECT_EQ(SearchTerms(many).size(), static_cast<size_t>(kSearchTermsMax));
}

TEST(IsValidSku, AcceptsCodesAndRefusesOthers) {
  EXPECT_TRUE(IsValidSku("BT-NAVY-M"));
  EXPECT_TRUE(IsValidSku(std::string(64, 'A')));
  EXPECT_FALSE(IsValidSku(std::string(65, 'A')));
  EXPECT_FALSE(IsValidSku(""));
  EXPECT_FALSE(IsValidSku("has space"));
}

TEST(ValidateProduct, AcceptsAValidProduct) { EXPECT_TRUE(ValidateProduct(Valid()).ok()); }

TEST(ValidateProduct, RefusesBadFields) {
  Product p = Valid();
  p.name = "";
  EXPECT_EQ(ValidateProduct(p).code(), Code::kInvalidArgument);
  p = Valid();
  p.variants[0].price.amount = 0;
  EXPECT_FALSE(ValidateProduct(p).ok());
  p = Valid();
  p.variants[0].price.currency = "ringgit";
  EXPECT_FALSE(ValidateProduct(p).ok());
  p = Valid();
  p.variants.push_back(p.variants[0]);
  EXPECT_FALSE(ValidateProduct(p).ok());  // a repeated SKU
  p = Valid();
  p.variants.clear();
  EXPECT_FALSE(ValidateProduct(p).ok());
  p = Valid();
  p.variants[0].image_url = "javascript:alert(1)";
  EXPECT_FALSE(ValidateProduct(p).ok());
}

TEST(ValidateProduct, HoldsAtMostTheVariantLimit) {
  Product p = Valid();
  p.variants.clear();
  for (int i = 0; i < kProductVariantsMax; ++i) {
    p.variants.push_back({"V-" + std::to_string(i), 0, {100, "MYR"}, {}, "", true});
  }
  EXPECT_TRUE(ValidateProduct(p).ok());
  p.variants.push_back({"V-LAST", 0, {100, "MYR"}, {}, "", true});
  EXPECT_FALSE(ValidateProduct(p).ok());
}

}  // namespace
}  // namespace tandem::catalog
