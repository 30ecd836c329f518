#include "tandem/documents/pick_list.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "tandem/base/limits.h"
#include "testing/pdf_text.h"

namespace tandem::documents {
namespace {

using ::tandem::testing::CountOf;
using ::tandem::testing::ReadPdf;

constexpr int64_t k2026_03_12_0605Z = 1773295500000;

std::string OrderNumber(int i) {
  char number[32];
  std::snprintf(number, sizeof number, "TD-2026-%06d", i);
  return number;
}

PickItem Item(int order, const std::string& sku, int64_t quantity) {
  return PickItem{OrderNumber(order), sku, "Name of " + sku, "size: M", "9556789012" + sku.substr(4),
                  quantity};
}

PickList SampleList() {
  PickList list;
  list.number = "PL-2026-000042";
  list.location_name = "Store KL Central";
  list.created_at_ms = k2026_03_12_0605Z;
  list.utc_offset_minutes = 8 * 60;
  list.items = {Item(7, "SKU-200", 1), Item(3, "SKU-100", 2), Item(7, "SKU-100", 1),
                Item(9, "SKU-300", 4), Item(3, "SKU-100", 3)};
  return list;
}

TEST(GroupBySku, SumsEachSkuOverItsOrdersSortedBySku) {
  const std::vector<PickLine> lines = GroupBySku(SampleList().items);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].sku, "SKU-100");
  EXPECT_EQ(lines[0].quantity, 6);
  const std::vector<std::pair<std::string, int64_t>> orders = {{OrderNumber(3), 5},
                                                               {OrderNumber(7), 1}};
  EXPECT_EQ(lines[0].orders, orders);
  EXPECT_EQ(lines[1].sku, "SKU-200");
  EXPECT_EQ(lines[1].quantity, 1);
  EXPECT_EQ(lines[2].sku, "SKU-300");
  EXPECT_EQ(lines[2].quantity, 4);
  EXPECT_EQ(lines[2].barcode, "9556789012300");
}

TEST(OrderNumbers, ListsEachOrderOnceInTheOrderFirstSeen) {
  const std::vector<std::string> expected = {OrderNumber(7), OrderNumber(3), OrderNumber(9)};
  EXPECT_EQ(OrderNumbers(SampleList().items), expected);
}

TEST(RenderPickListPdf, PrintsTheLocationOrdersAndEverySkuWithItsUnits) {
  Result<std::string> pdf = RenderPickListPdf(SampleList());
  ASSERT_TRUE(pdf.ok()) << pdf.status().message();
  const auto read = ReadPdf(pdf.value(), "pick-list.pdf");
  const std::string& text = read.text;
  EXPECT_EQ(read.pages, 1);
  for (const char* expected :
       {"PICK LIST", "PL-2026-000042", "Store KL Central", "Created 12 Mar 2026, 14:05",
        "3 orders", "3 SKUs", "11 units", "SKU-100", "Name of SKU-100", "size: M",
        "9556789012100", "TD-2026-000003 × 5", "TD-2026-000007 × 1", "TD-2026-000009 × 4",
        "Picked by", "Checked by", "Page 1 of 1"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " missing from:\n" << text;
  }
  EXPECT_NE(text.find("Orders: TD-2026-000007, TD-2026-000003, TD-2026-000009"),
            std::string::npos);
  EXPECT_LT(text.find("Name of SKU-100"), text.find("Name of SKU-200"));
  EXPECT_LT(text.find("Name of SKU-200"), text.find("Name of SKU-300"));
}

TEST(RenderPickListPdf, FlowsManySkusOntoPagesAndKeepsEveryOne) {
  PickList list = SampleList();
  list.items.clear();
  for (int i = 0; i < 300; ++i) list.items.push_back(Item(i % 40, "SKU-" + std::to_string(1000 + i), 1 + i % 3));
  Result<std::string> pdf = RenderPickListPdf(list);
  ASSERT_TRUE(pdf.ok()) << pdf.status().message();
  const auto read = ReadPdf(pdf.value(), "pick-list-300.pdf");
  ASSERT_GE(read.pages, 4);
  for (int i = 0; i < 300; ++i) {
    const std::string name = "Name of SKU-" + std::to_string(1000 + i);
    EXPECT_EQ(CountOf(read.text, name), 1) << name;
  }
  EXPECT_EQ(CountOf(read.text, "(continued)"), read.pages - 1);
}

TEST(RenderPickListPdf, SplitsASkuWantedByEveryOrderAcrossPages) {
  PickList list = SampleList();
  list.items.clear();
  for (int order = 1; order <= kPickListOrdersMax; ++order) list.items.push_back(Item(order, "SKU-500", 1));
  Result<std::string> pdf = RenderPickListPdf(list);
  ASSERT_TRUE(pdf.ok()) << pdf.status().message();
  const auto read = ReadPdf(pdf.value(), "pick-list-one-sku.pdf");
  EXPECT_GE(read.pages, 2);
  for (int order = 1; order <= kPickListOrdersMax; ++order) {
    EXPECT_EQ(CountOf(read.text, OrderNumber(order) + " × 1"), 1) << OrderNumber(order);
  }
  EXPECT_NE(read.text.find(std::to_string(kPickListOrdersMax) + " units"), std::string::npos);
  EXPECT_EQ(CountOf(read.text, "Name of SKU-500"), read.pages);  // each page names its SKU
}

TEST(RenderPickListPdf, RefusesOneOrderPastTheLimit) {
  PickList list = SampleList();
  list.items.clear();
  for (int order = 1; order <= kPickListOrdersMax + 1; ++order) list.items.push_back(Item(order, "SKU-500", 1));
  Result<std::string> pdf = RenderPickListPdf(list);
  ASSERT_FALSE(pdf.ok());
  EXPECT_EQ(pdf.status().code(), Code::kLimitExceeded);
}

TEST(RenderPickListPdf, RefusesAListWithoutLocationOrWithABadItem) {
  PickList list = SampleList();
  list.location_name.clear();
  EXPECT_EQ(RenderPickListPdf(list).status().code(), Code::kInvalidArgument);
  list = SampleList();
  list.items[1].quantity = 0;
  EXPECT_EQ(RenderPickListPdf(list).status().code(), Code::kInvalidArgument);
  list = SampleList();
  list.items[2].sku.clear();
  EXPECT_EQ(RenderPickListPdf(list).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace tandem::documents
