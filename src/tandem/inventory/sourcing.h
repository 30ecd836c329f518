// Sourcing: from which locations one order line is served, and why, in words a clerk understands.
// The allocator gathers the candidates (eligible locations with their stock, distance to the
// delivery address and today's backlog against their daily capacity) and asks PlanSourcing; the
// explanations go to the order's timeline.
//
// The rules, in order:
//   1. A location at or above its daily capacity is passed over, unless the others together cannot
//      serve the line; then the full ones are used too, least loaded first, and the explanation
//      says so.
//   2. One location that has every unit wins over a split (fewest shipments). Among those: a
//      `preferred` one (already serving another line of the order), then the nearest (an unknown
//      distance ranks after every known one), then the lower load ratio (backlog / capacity; an
//      unlimited location counts as empty), then the most available, then the lower id.
//   3. Else the line is split over the fewest locations possible, taking as many units as it can
//      from the nearest first (same ranking, without `preferred`).
// With no distances and no capacities this is exactly PlanSources.
//
// Pure and deterministic (the same candidates in any order give the same plan); safe from any
// thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/inventory/allocator.h"

namespace tandem::inventory {

struct SourcingCandidate {
  int64_t location_id = 0;
  std::string name;                   // as a clerk knows it, e.g. "Store KL Central"
  std::optional<double> distance_km;  // to the delivery address; nullopt when unknown
  int64_t available = 0;              // units that may be promised (StockLevel::Available)
  int64_t backlog_today = 0;          // open units or shipments today
  int64_t daily_capacity = 0;         // in the same unit as the backlog; 0 = unlimited
};

struct SourcedPart {
  int64_t location_id = 0;
  int64_t quantity = 0;
  // E.g. "5 from Store KL Central, 3 km, 12 of 200 today (nearest with all 5)".
  std::string explanation;
};

struct PassedOver {
  int64_t location_id = 0;
  // E.g. "Warehouse Shah Alam passed over: at its daily capacity (200 of 200)".
  std::string reason;
};

struct SourcingPlan {
  std::vector<SourcedPart> parts;       // in the order chosen; their quantities sum to the line's
  std::vector<PassedOver> passed_over;  // every other candidate, by location id
};

// Plans `quantity` (> 0, TANDEM_CHECK) units over `candidates` (distinct location ids, every one
// already eligible for the line). kInsufficientStock when all of them together have fewer units.
Result<SourcingPlan> PlanSourcing(const std::vector<SourcingCandidate>& candidates,
                                  int64_t quantity, const std::vector<int64_t>& preferred);

// The plan as the allocator's sources, in the same order.
std::vector<Source> SourcesOf(const SourcingPlan& plan);

// "3 km", "under 1 km", "distance unknown": how explanations write a distance.
std::string DistanceText(std::optional<double> distance_km);

}  // namespace tandem::inventory
