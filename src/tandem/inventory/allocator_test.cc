#include "tandem/inventory/allocator.h"

#include <gtest/gtest.h>

namespace tandem::inventory {
namespace {

StockLevel At(int64_t location, int64_t on_hand, int64_t reserved = 0, int64_t allocated = 0,
              int64_t safety = 0) {
  return StockLevel{"SKU-1", location, on_hand, reserved, allocated, safety};
}

TEST(PlanSources, ServesFromOneLocationWhenOneHasEverything) {
  std::vector<Source> plan = PlanSources({At(1, 3), At(2, 10)}, 5, {});
  EXPECT_EQ(plan, (std::vector<Source>{{2, 5}}));
}

TEST(PlanSources, PrefersALocationTheCartAlreadyUses) {
  std::vector<Source> plan = PlanSources({At(1, 6), At(2, 10)}, 5, {1});
  EXPECT_EQ(plan, (std::vector<Source>{{1, 5}}));
}

TEST(PlanSources, SplitsLineAcrossTwoStoresLargestFirst) {
  std::vector<Source> plan = PlanSources({At(1, 3), At(2, 4), At(3, 1)}, 6, {});
  EXPECT_EQ(plan, (std::vector<Source>{{2, 4}, {1, 2}}));
}

TEST(PlanSources, CountsOnlyAvailableUnits) {
  // 10 on hand, 2 held, 3 allocated, 2 for walk-ins: 3 can be promised.
  EXPECT_EQ(PlanSources({At(1, 10, 2, 3, 2)}, 3, {}), (std::vector<Source>{{1, 3}}));
  EXPECT_TRUE(PlanSources({At(1, 10, 2, 3, 2)}, 4, {}).empty());
}

TEST(PlanSources, IsEmptyWhenEverythingTogetherIsNotEnough) {
  EXPECT_TRUE(PlanSources({At(1, 2), At(2, 2)}, 5, {}).empty());
  EXPECT_TRUE(PlanSources({}, 1, {}).empty());
  EXPECT_TRUE(PlanSources({At(1, 0, 0, 0, 3)}, 1, {}).empty());  // safety stock above on hand
}

TEST(PlanSources, IsDeterministicOnTies) {
  EXPECT_EQ(PlanSources({At(2, 5), At(1, 5)}, 5, {}), (std::vector<Source>{{1, 5}}));
}

LevelTotals Consistent() {
  LevelTotals t;
  t.sku = "SKU-1";
  t.location_id = 1;
  t.has_level = true;
  t.on_hand = t.ledger_sum = 10;
  t.reserved = t.holds_sum = 2;
  t.allocated = t.allocations_sum = 3;
  return t;
}

TEST(FindDiscrepancies, IsEmptyWhenCountersMatchTheirSums) {
  EXPECT_TRUE(FindDiscrepancies({Consistent()}).empty());
}

TEST(FindDiscrepancies, ReportsEachBrokenRule) {
  LevelTotals ledger = Consistent();
  ledger.ledger_sum = 9;
  LevelTotals holds = Consistent();
  holds.holds_sum = 1;
  LevelTotals allocations = Consistent();
  allocations.allocations_sum = 4;
  LevelTotals orphan = Consistent();
  orphan.has_level = false;
  LevelTotals uncovered = Consistent();
  uncovered.on_hand = uncovered.ledger_sum = 4;
  EXPECT_EQ(FindDiscrepancies({ledger}).size(), 1u);
  EXPECT_EQ(FindDiscrepancies({holds}).size(), 1u);
  EXPECT_EQ(FindDiscrepancies({allocations}).size(), 1u);
  EXPECT_EQ(FindDiscrepancies({orphan}).size(), 1u);
  EXPECT_EQ(FindDiscrepancies({uncovered}).size(), 1u);
  EXPECT_EQ(FindDiscrepancies({ledger, holds, Consistent()}).size(), 2u);
}

TEST(Names, RoundTrip) {
  for (auto r : {MovementReason::kReceipt, MovementReason::kSaleOnline, MovementReason::kTransferIn,
                 MovementReason::kCountCorrection}) {
    EXPECT_EQ(ParseMovementReason(MovementReasonName(r)), r);
  }
  EXPECT_EQ(ParseLocationKind("distribution_centre"), LocationKind::kDistributionCentre);
  EXPECT_FALSE(ParseLocationKind("shop").has_value());
}

}  // namespace
}  // namespace tandem::inventory
