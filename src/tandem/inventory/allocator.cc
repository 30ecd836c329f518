#include "tandem/inventory/allocator.h"

#include <algorithm>

#include "tandem/base/check.h"
#include "tandem/inventory/sourcing.h"

namespace tandem::inventory {

std::vector<Source> PlanSources(const std::vector<StockLevel>& levels, int64_t quantity,
                                const std::vector<int64_t>& preferred) {
  TANDEM_DCHECK(quantity > 0);
  auto is_preferred = [&](int64_t id) {
    return std::find(preferred.begin(), preferred.end(), id) != preferred.end();
  };
  std::vector<const StockLevel*> order;
  for (const StockLevel& l : levels) {
    if (l.Available() > 0) order.push_back(&l);
  }
  // Preferred first, then most available, then lowest id so the choice is deterministic.
  std::sort(order.begin(), order.end(), [&](const StockLevel* a, const StockLevel* b) {
    bool pa = is_preferred(a->location_id), pb = is_preferred(b->location_id);
    if (pa != pb) return pa;
    if (a->Available() != b->Available()) return a->Available() > b->Available();
    return a->location_id < b->location_id;
  });
  for (const StockLevel* l : order) {
    if (l->Available() >= quantity) return {Source{l->location_id, quantity}};
  }
  // No single location has everything: split, largest first, so the fewest shipments result.
  std::sort(order.begin(), order.end(), [](const StockLevel* a, const StockLevel* b) {
    if (a->Available() != b->Available()) return a->Available() > b->Available();
    return a->location_id < b->location_id;
  });
  std::vector<Source> plan;
  int64_t left = quantity;
  for (const StockLevel* l : order) {
    int64_t take = std::min(left, l->Available());
    plan.push_back(Source{l->location_id, take});
    left -= take;
    if (left == 0) return plan;
  }
  return {};
}

Allocator::Allocator(InventoryStore& store, int64_t now_ms) : store_(store), now_ms_(now_ms) {}

const std::vector<Location>& Allocator::LocationsCached() {
  if (!locations_) locations_ = store_.Locations();
  return *locations_;
}

std::vector<StockLevel> Allocator::EligibleLevels(const std::string& sku,
                                                  const Eligibility& eligibility) {
  std::vector<StockLevel> eligible;
  const std::vector<Location>& locations = LocationsCached();
  for (StockLevel& level : store_.Levels(sku)) {
    auto loc = std::find_if(locations.begin(), locations.end(),
                            [&](const Location& l) { return l.id == level.location_id; });
    if (loc == locations.end()) continue;
    bool ok = eligibility.only_location ? (loc->id == *eligibility.only_location && loc->pickup)
                                        : loc->ships_orders;
    if (ok) eligible.push_back(std::move(level));
  }
  return eligible;
}

std::vector<Source> Allocator::Plan(const std::vector<StockLevel>& levels, int64_t quantity,
                                    const Eligibility& eligibility,
                                    const std::vector<int64_t>& preferred) {
  const std::vector<Location>& locations = LocationsCached();
  auto location_of = [&](int64_t id) {
    return std::find_if(locations.begin(), locations.end(),
                        [&](const Location& l) { return l.id == id; });
  };
  bool ranked = eligibility.destination.has_value();
  for (const StockLevel& level : levels) {
    auto loc = location_of(level.location_id);
    if (loc != locations.end() && loc->daily_capacity > 0) ranked = true;
  }
  // The flash sale's path: no address yet and no capacities, so no reads beyond the levels.
  if (!ranked) return PlanSources(levels, quantity, preferred);
  std::vector<SourcingCandidate> candidates;
  for (const StockLevel& level : levels) {
    auto loc = location_of(level.location_id);
    if (loc == locations.end()) continue;
    SourcingCandidate c;
    c.location_id = loc->id;
    c.name = loc->name;
    c.available = std::max<int64_t>(0, level.Available());
    if (eligibility.destination && (loc->latitude != 0 || loc->longitude != 0)) {
      c.distance_km = DistanceKm({loc->latitude, loc->longitude}, *eligibility.destination);
    }
    c.daily_capacity = loc->daily_capacity;
    if (c.daily_capacity > 0) c.backlog_today = store_.BacklogAt(loc->id);
    candidates.push_back(std::move(c));
  }
  Result<SourcingPlan> plan = PlanSourcing(candidates, quantity, preferred);
  if (!plan.ok()) return {};
  return SourcesOf(*plan);
}

Availability Allocator::AvailabilityOf(const std::string& sku) {
  Availability out;
  const std::vector<Location>& locations = LocationsCached();
  for (const StockLevel& level : store_.Levels(sku)) {
    auto loc = std::find_if(locations.begin(), locations.end(),
                            [&](const Location& l) { return l.id == level.location_id; });
    if (loc == locations.end()) continue;
    int64_t available = std::max<int64_t>(0, level.Available());
    if (loc->ships_orders) out.online += available;
    if (loc->pickup) out.stores.push_back({loc->id, loc->name, available});
  }
  return out;
}

Result<std::vector<Hold>> Allocator::PlaceHolds(int64_t cart_id, const std::string& sku,
                                                int64_t quantity, const Eligibility& eligibility,
                                                int64_t expires_ms,
                                                const std::vector<int64_t>& preferred) {
  TANDEM_CHECK(quantity > 0);
  // Expired holds of this SKU are never counted as live: give them back before deciding.
  ReleaseExpiredHolds(sku, 1000);
  std::vector<Source> plan =
      Plan(EligibleLevels(sku, eligibility), quantity, eligibility, preferred);
  if (plan.empty()) {
    return Status(Code::kInsufficientStock, "not enough " + sku + " available");
  }
  // During a sale event online commits at most the ring-fenced quantity.
  std::optional<int64_t> event_id;
  if (const std::optional<SaleEventSku>& cap = ActiveEvent(sku)) {
    if (!store_.TryCommitEvent(cap->event_id, sku, quantity)) {
      return Status(Code::kInsufficientStock, "the sale event's units of " + sku + " are gone");
    }
    event_id = cap->event_id;
  }
  std::vector<Hold> holds;
  for (const Source& s : plan) {
    // The guard re-checks availability in the database; the caller's transaction is rolled back
    // on failure, so holds placed earlier in this loop vanish with it.
    if (!store_.TryReserve(sku, s.location_id, s.quantity)) {
      return Status(Code::kInsufficientStock, "not enough " + sku + " available");
    }
    Hold h{0, cart_id, sku, s.location_id, s.quantity, expires_ms, event_id};
    h.id = store_.InsertHold(h);
    if (h.id == 0) {
      return Status(Code::kConflict, "this cart has been changed too often; start a new cart");
    }
    holds.push_back(h);
  }
  return holds;
}

const std::optional<SaleEventSku>& Allocator::ActiveEvent(const std::string& sku) {
  auto it = events_.find(sku);
  if (it == events_.end()) it = events_.emplace(sku, store_.ActiveEventSku(sku, now_ms_)).first;
  return it->second;
}

void Allocator::ReleaseHold(const Hold& hold) {
  TANDEM_CHECK(store_.TryUnreserve(hold.sku, hold.location_id, hold.quantity));
  if (hold.event_id) {
    TANDEM_CHECK(store_.TryUncommitEvent(*hold.event_id, hold.sku, hold.quantity));
  }
  store_.DeleteHold(hold.id);
}

int Allocator::ReleaseExpiredHolds(const std::string& sku, int limit) {
  auto release = [&](const std::vector<Hold>& expired) {
    for (const Hold& h : expired) ReleaseHold(h);
    return static_cast<int>(expired.size());
  };
  // Every SKU's, oldest first: their lookup is the cheap one (holds are indexed by expiry, not by
  // SKU), and releasing them keeps the expired holds few. Past `limit` of them, the SKU's own.
  int released = release(store_.ExpiredHolds(now_ms_, "", limit));
  if (!sku.empty() && released == limit) {
    released += release(store_.ExpiredHolds(now_ms_, sku, limit));
  }
  return released;
}

Allocation Allocator::AllocateFromHold(const Hold& hold, int64_t order_id, int64_t line_id) {
  TANDEM_CHECK(store_.TryReservedToAllocated(hold.sku, hold.location_id, hold.quantity));
  store_.DeleteHold(hold.id);
  Allocation a{0, order_id, line_id, hold.sku, hold.location_id, hold.quantity, true,
               hold.event_id, false};
  a.id = store_.InsertAllocation(a);
  return a;
}

void Allocator::ReleaseAllocation(const Allocation& allocation) {
  ReleaseAllocationPart(allocation, allocation.quantity);
}

void Allocator::ShipAllocation(const Allocation& allocation, const std::string& reference) {
  TANDEM_CHECK(allocation.open);
  Movement m{0, allocation.sku, allocation.location_id, -allocation.quantity,
             MovementReason::kSaleOnline, reference, now_ms_};
  TANDEM_CHECK(store_.RecordMovement(m, -allocation.quantity) != 0);
  store_.CloseAllocation(allocation.id, /*shipped=*/true);
}

void Allocator::ReleaseAllocationPart(const Allocation& allocation, int64_t units) {
  MoveOutOfAllocation(allocation, units);
  if (allocation.event_id) {
    TANDEM_CHECK(store_.TryUncommitEvent(*allocation.event_id, allocation.sku, units));
  }
}

void Allocator::MoveOutOfAllocation(const Allocation& allocation, int64_t units) {
  TANDEM_CHECK(allocation.open && units > 0 && units <= allocation.quantity);
  TANDEM_CHECK(store_.TryUnallocate(allocation.sku, allocation.location_id, units));
  if (units == allocation.quantity) {
    store_.CloseAllocation(allocation.id, /*shipped=*/false);
  } else {
    store_.ShrinkAllocation(allocation.id, allocation.quantity - units);
  }
}

std::vector<Allocation> Allocator::Reallocate(const Allocation& allocation, int64_t units) {
  TANDEM_CHECK(allocation.open && units > 0 && units <= allocation.quantity);
  std::vector<StockLevel> elsewhere;
  int64_t there = 0;
  for (StockLevel& l : EligibleLevels(allocation.sku, Eligibility{})) {
    if (l.location_id == allocation.location_id) continue;
    there += std::max<int64_t>(0, l.Available());
    elsewhere.push_back(std::move(l));
  }
  units = std::min(units, there);
  if (units == 0) return {};
  std::vector<Source> plan = PlanSources(elsewhere, units, {});
  TANDEM_CHECK(!plan.empty());
  // The units stay committed to the sale event: they only change location.
  MoveOutOfAllocation(allocation, units);
  std::vector<Allocation> moved;
  for (const Source& s : plan) {
    TANDEM_CHECK(store_.TryAllocate(allocation.sku, s.location_id, s.quantity));
    Allocation a{0, allocation.order_id, allocation.line_id, allocation.sku, s.location_id,
                 s.quantity, true, allocation.event_id, false};
    a.id = store_.InsertAllocation(a);
    moved.push_back(a);
  }
  return moved;
}

int64_t Allocator::ReleaseHoldsAt(const std::string& sku, int64_t location_id, int64_t units) {
  int64_t released = 0;
  for (const Hold& h : store_.HoldsAt(sku, location_id)) {
    if (released >= units) break;
    ReleaseHold(h);
    released += h.quantity;
  }
  return released;
}

}  // namespace tandem::inventory
