#include "tandem/inventory/sourcing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <random>

#include "tandem/base/check.h"

namespace tandem::inventory {
namespace {


SourcingCandidate Loc(int64_t id, std::string name, std::optional<double> km, int64_t available,
                      int64_t backlog = 0, int64_t capacity = 0) {
  return SourcingCandidate{id, std::move(name), km, available, backlog, capacity};
}

SourcingPlan Plan(const std::vector<SourcingCandidate>& candidates, int64_t quantity,
                  const std::vector<int64_t>& preferred = {}) {
  Result<SourcingPlan> plan = PlanSourcing(candidates, quantity, preferred);
  EXPECT_TRUE(plan.ok()) << plan.status().message();
  return plan.ok() ? plan.value() : SourcingPlan{};
}

std::string ReasonFor(const SourcingPlan& plan, int64_t location_id) {
  for (const PassedOver& p : plan.passed_over) {
    if (p.location_id == location_id) return p.reason;
  }
  return "(not passed over)";
}

TEST(PlanSourcing, TheNearestLocationWithEveryUnitWins) {
  SourcingPlan plan =
      Plan({Loc(1, "Warehouse Shah Alam", 25.4, 50, 12, 200),
            Loc(2, "Store KL Central", 3.2, 10, 12, 200), Loc(3, "Store Bangsar", 1.0, 2, 0, 200)},
           5);
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{2, 5}}));
  ASSERT_EQ(plan.parts.size(), 1u);
  EXPECT_EQ(plan.parts[0].explanation,
            "5 from Store KL Central, 3 km, 12 of 200 today (nearest with all 5)");
  ASSERT_EQ(plan.passed_over.size(), 2u);
  EXPECT_EQ(ReasonFor(plan, 1),
            "Warehouse Shah Alam passed over: 25 km, farther than Store KL Central (3 km)");
  EXPECT_EQ(ReasonFor(plan, 3), "Store Bangsar passed over: has only 2 of 5");
}

TEST(PlanSourcing, PassesOverTheNearestLocationAtItsDailyCapacity) {
  SourcingPlan plan = Plan({Loc(1, "Store KL Central", 3, 100, 200, 200),
                            Loc(2, "Warehouse Shah Alam", 25, 100, 12, 200)},
                           5);
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{2, 5}}));
  EXPECT_EQ(plan.parts[0].explanation,
            "5 from Warehouse Shah Alam, 25 km, 12 of 200 today (nearest with all 5)");
  EXPECT_EQ(ReasonFor(plan, 1), "Store KL Central passed over: at its daily capacity (200 of 200)");
  // Above capacity too; one below it is not full.
  EXPECT_EQ(SourcesOf(Plan({Loc(1, "A", 3, 100, 201, 200), Loc(2, "B", 25, 100)}, 5)),
            (std::vector<Source>{{2, 5}}));
  EXPECT_EQ(SourcesOf(Plan({Loc(1, "A", 3, 100, 199, 200), Loc(2, "B", 25, 100)}, 5)),
            (std::vector<Source>{{1, 5}}));
}

TEST(PlanSourcing, PrefersASplitBelowCapacityToALocationAtCapacity) {
  SourcingPlan plan = Plan(
      {Loc(1, "Store A", 1, 3), Loc(2, "Store B", 2, 3), Loc(3, "Warehouse C", 3, 100, 50, 50)}, 5);
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{1, 3}, {2, 2}}));
  EXPECT_EQ(plan.parts[0].explanation,
            "3 from Store A, 1 km, 0 today, no daily limit "
            "(split: no location below its daily capacity had all 5)");
  EXPECT_EQ(ReasonFor(plan, 3), "Warehouse C passed over: at its daily capacity (50 of 50)");
}

TEST(PlanSourcing, UsesTheLeastLoadedFullLocationWhenNothingElseCanServeAndSaysSo) {
  SourcingPlan plan = Plan({Loc(1, "Store A", 1, 2), Loc(2, "Warehouse B", 10, 100, 300, 250),
                            Loc(3, "Warehouse C", 90, 100, 210, 200)},
                           5);
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{3, 5}}));  // 1.05 loaded against 1.2
  EXPECT_EQ(plan.parts[0].explanation,
            "5 from Warehouse C, 90 km, 210 of 200 today (at its daily capacity, the least "
            "loaded of those with all 5: no location below capacity had enough)");
  EXPECT_EQ(ReasonFor(plan, 1), "Store A passed over: has only 2 of 5");
  EXPECT_EQ(ReasonFor(plan, 2), "Warehouse B passed over: at its daily capacity (300 of 250)");
}

TEST(PlanSourcing, SplitsOverFullLocationsOnlyForWhatTheOthersLack) {
  SourcingPlan plan = Plan({Loc(1, "Store A", 50, 3), Loc(2, "Warehouse B", 1, 1, 300, 200),
                            Loc(3, "Warehouse C", 2, 1, 200, 200)},
                           5);
  // Below capacity first however far, then the full ones least loaded first.
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{1, 3}, {3, 1}, {2, 1}}));
  EXPECT_EQ(plan.parts[1].explanation,
            "1 from Warehouse C, 2 km, 200 of 200 today (at its daily capacity, used because the "
            "others could not cover all 5)");
}

TEST(PlanSourcing, SplitsOverTheFewestLocationsNearestFirst) {
  // Store C is nearest but with it three shipments would be needed; A and B make two.
  SourcingPlan plan =
      Plan({Loc(1, "Store A", 5, 3), Loc(2, "Store B", 10, 4), Loc(3, "Store C", 1, 1)}, 6);
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{1, 3}, {2, 3}}));
  EXPECT_EQ(plan.parts[1].explanation,
            "3 from Store B, 10 km, 0 today, no daily limit (split: no location had all 6)");
  EXPECT_EQ(ReasonFor(plan, 3), "Store C passed over: not needed: 2 locations cover all 6");
  // The nearest gives all it has; the rest comes from the one that can still finish in two.
  EXPECT_EQ(SourcesOf(Plan({Loc(1, "A", 1, 5), Loc(2, "B", 2, 5), Loc(3, "C", 3, 8)}, 12)),
            (std::vector<Source>{{1, 5}, {3, 7}}));
}

TEST(PlanSourcing, SplitsIntoTheFewestPartsWhateverTheDistances) {
  std::mt19937 rng(20);
  for (int round = 0; round < 500; ++round) {
    std::vector<SourcingCandidate> candidates;
    int n = 1 + static_cast<int>(rng() % 7);
    for (int i = 0; i < n; ++i) {
      std::optional<double> km;
      if (rng() % 4 != 0) km = static_cast<double>(rng() % 50);
      candidates.push_back(Loc(i + 1, "L" + std::to_string(i + 1), km, rng() % 8));
    }
    int64_t total = 0;
    for (const SourcingCandidate& c : candidates) total += c.available;
    if (total == 0) continue;
    int64_t quantity = 1 + static_cast<int64_t>(rng() % total);
    // The fewest by brute force over every subset.
    size_t fewest = candidates.size();
    for (unsigned mask = 1; mask < (1u << n); ++mask) {
      int64_t sum = 0;
      for (int i = 0; i < n; ++i) sum += (mask >> i & 1) ? candidates[i].available : 0;
      if (sum >= quantity) fewest = std::min<size_t>(fewest, std::popcount(mask));
    }
    SourcingPlan plan = Plan(candidates, quantity);
    int64_t planned = 0;
    for (const SourcedPart& p : plan.parts) {
      EXPECT_GT(p.quantity, 0);
      EXPECT_LE(p.quantity, candidates[p.location_id - 1].available);
      planned += p.quantity;
    }
    EXPECT_EQ(planned, quantity) << "round " << round;
    EXPECT_EQ(plan.parts.size(), fewest) << "round " << round;
    EXPECT_EQ(plan.parts.size() + plan.passed_over.size(), candidates.size());
  }
}

TEST(PlanSourcing, RanksUnknownDistancesAfterKnownOnes) {
  SourcingPlan plan =
      Plan({Loc(1, "Warehouse X", std::nullopt, 100), Loc(2, "Store Miri", 1500, 10)}, 5);
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{2, 5}}));
  EXPECT_EQ(ReasonFor(plan, 1), "Warehouse X passed over: distance unknown, Store Miri is 1500 km");
  // When no distance is known: the most available, as PlanSources did.
  plan = Plan({Loc(1, "Store A", std::nullopt, 6), Loc(2, "Store B", std::nullopt, 10)}, 5);
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{2, 5}}));
  EXPECT_EQ(plan.parts[0].explanation,
            "5 from Store B, distance unknown, 0 today, no daily limit (has all 5)");
}

TEST(PlanSourcing, APreferredLocationWithEveryUnitWinsOverANearerOne) {
  std::vector<SourcingCandidate> candidates = {Loc(1, "Store KL Central", 3, 10),
                                               Loc(2, "Warehouse Shah Alam", 25, 10)};
  SourcingPlan plan = Plan(candidates, 5, {2});
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{2, 5}}));
  EXPECT_EQ(plan.parts[0].explanation,
            "5 from Warehouse Shah Alam, 25 km, 0 today, no daily limit (already serving this "
            "order)");
  EXPECT_EQ(ReasonFor(plan, 1),
            "Store KL Central passed over: Warehouse Shah Alam already serves this order");
  // Not when it lacks units, nor when it is at capacity.
  EXPECT_EQ(SourcesOf(Plan(candidates, 11, {2})), (std::vector<Source>{{1, 10}, {2, 1}}));
  EXPECT_EQ(SourcesOf(Plan({Loc(1, "A", 3, 10), Loc(2, "B", 25, 10, 9, 9)}, 5, {2})),
            (std::vector<Source>{{1, 5}}));
}

TEST(PlanSourcing, BreaksDistanceTiesByLoadThenUnitsThenId) {
  SourcingPlan plan = Plan({Loc(1, "Store A", 3, 10, 100, 200), Loc(2, "Store B", 3, 10, 10, 20),
                            Loc(3, "Store C", 3, 10, 40, 100)},
                           5);
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{3, 5}}));  // 0.4 against 0.5 and 0.5
  EXPECT_EQ(ReasonFor(plan, 1),
            "Store A passed over: as near as Store C but busier (100 of 200 today, Store C 40 of "
            "100 today)");
  plan = Plan({Loc(1, "Store A", 3, 10, 1, 2), Loc(2, "Store B", 3, 12, 10, 20)}, 5);
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{2, 5}}));
  EXPECT_EQ(ReasonFor(plan, 1),
            "Store A passed over: as near and as busy as Store B, which has more available (12 "
            "against 10)");
  plan = Plan({Loc(2, "Store B", 3, 10), Loc(1, "Store A", 3, 10)}, 5);
  EXPECT_EQ(SourcesOf(plan), (std::vector<Source>{{1, 5}}));
  EXPECT_EQ(ReasonFor(plan, 2), "Store B passed over: tied with Store A, which comes first");
  plan = Plan({Loc(1, "Store A", 3.2, 10), Loc(2, "Store B", 3.4, 10)}, 5);
  EXPECT_EQ(ReasonFor(plan, 2), "Store B passed over: slightly farther than Store A (3 km)");
}

TEST(PlanSourcing, GivesTheSamePlanForTheCandidatesInAnyOrder) {
  std::vector<SourcingCandidate> candidates = {
      Loc(1, "A", 3, 2),       Loc(2, "B", 3, 2), Loc(3, "C", std::nullopt, 3),
      Loc(4, "D", 7, 1, 5, 5), Loc(5, "E", 1, 0), Loc(6, "F", 9, 2, 1, 4)};
  Result<SourcingPlan> first = PlanSourcing(candidates, 6, {});
  ASSERT_TRUE(first.ok());
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    std::shuffle(candidates.begin(), candidates.end(), rng);
    Result<SourcingPlan> again = PlanSourcing(candidates, 6, {});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(SourcesOf(*again), SourcesOf(*first));
    ASSERT_EQ(again->passed_over.size(), first->passed_over.size());
    for (size_t j = 0; j < first->passed_over.size(); ++j) {
      EXPECT_EQ(again->passed_over[j].reason, first->passed_over[j].reason);
    }
  }
}

TEST(PlanSourcing, RefusesWhenEverythingTogetherIsNotEnough) {
  Result<SourcingPlan> plan =
      PlanSourcing({Loc(1, "A", 3, 2), Loc(2, "B", 5, 2, 9, 9), Loc(3, "C", 1, -4)}, 5, {});
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), Code::kInsufficientStock);
  EXPECT_EQ(plan.status().message(), "only 4 of 5 available across 3 locations");
  EXPECT_EQ(PlanSourcing({}, 1, {}).status().code(), Code::kInsufficientStock);
}

TEST(PlanSourcing, SaysWhenALocationHasNothing) {
  SourcingPlan plan = Plan({Loc(1, "A", 3, 5), Loc(2, "B", 1, 0), Loc(3, "C", 2, -3)}, 5);
  EXPECT_EQ(ReasonFor(plan, 2), "B passed over: none available");
  EXPECT_EQ(ReasonFor(plan, 3), "C passed over: none available");  // safety stock above on hand
}

TEST(PlanSourcing, RequiresAPositiveQuantity) {
  EXPECT_THROW((void)PlanSourcing({Loc(1, "A", 3, 5)}, 0, {}), CheckFailure);
}

TEST(DistanceText, RoundsToWholeKilometres) {
  EXPECT_EQ(DistanceText(std::nullopt), "distance unknown");
  EXPECT_EQ(DistanceText(0.4), "under 1 km");
  EXPECT_EQ(DistanceText(1.0), "1 km");
  EXPECT_EQ(DistanceText(3.49), "3 km");
  EXPECT_EQ(DistanceText(3.5), "4 km");
  EXPECT_EQ(DistanceText(1500.2), "1500 km");
}

// Without distances and capacities the plan is the one PlanSources makes.
TEST(PlanSourcing, AgreesWithPlanSourcesWhenNothingButStockIsKnown) {
  std::mt19937 rng(11);
  for (int round = 0; round < 1000; ++round) {
    std::vector<SourcingCandidate> candidates;
    std::vector<StockLevel> levels;
    int n = static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      int64_t on_hand = rng() % 10, safety = rng() % 3;
      int64_t id = 1 + static_cast<int64_t>(rng() % 100);
      if (std::any_of(levels.begin(), levels.end(),
                      [&](const auto& l) { return l.location_id == id; })) {
        continue;
      }
      levels.push_back({"SKU-1", id, on_hand, 0, 0, safety});
      candidates.push_back(Loc(id, "L", std::nullopt, on_hand - safety));
    }
    int64_t quantity = 1 + static_cast<int64_t>(rng() % 15);
    std::vector<int64_t> preferred;
    if (!levels.empty() && rng() % 2)
      preferred.push_back(levels[rng() % levels.size()].location_id);
    std::vector<Source> expected = PlanSources(levels, quantity, preferred);
    Result<SourcingPlan> plan = PlanSourcing(candidates, quantity, preferred);
    EXPECT_EQ(plan.ok(), !expected.empty()) << "round " << round;
    if (plan.ok()) {
      EXPECT_EQ(SourcesOf(*plan), expected) << "round " << round;
    }
  }
}

}  // namespace
}  // namespace tandem::inventory
