// The allocator: the one piece of code that decides from which location(s) a line is served,
// for availability shown to shoppers, soft holds, allocations, and their release.
//
// An Allocator borrows an InventoryStore for the length of one transaction; it is not thread-safe
// and must not outlive that transaction.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/inventory/geo.h"
#include "tandem/inventory/inventory.h"

namespace tandem::inventory {

// Where a line may be served from.
struct Eligibility {
  // Pick-up: only this store. Otherwise every location that ships orders.
  std::optional<int64_t> only_location;
  // Delivery: where the parcel goes, when known; the nearest location that has the stock is
  // preferred (sourcing.h).
  std::optional<LatLon> destination;
};

struct Source {
  int64_t location_id = 0;
  int64_t quantity = 0;
  bool operator==(const Source&) const = default;
};

struct StoreAvailability {
  int64_t location_id = 0;
  std::string name;
  int64_t available = 0;
};

struct Availability {
  int64_t online = 0;  // what can be promised to an online order now
  std::vector<StoreAvailability> stores;  // per pick-up store
};

// Chooses sources for `quantity` units among `levels` (already eligible): one location that has
// everything if possible (preferring `preferred`, then the most available), else a split over the
// fewest locations. Empty when the levels together cannot cover the quantity. Pure.
std::vector<Source> PlanSources(const std::vector<StockLevel>& levels, int64_t quantity,
                                const std::vector<int64_t>& preferred);

class Allocator {
 public:
  Allocator(InventoryStore& store, int64_t now_ms);

  // What a shopper is shown for a SKU: online-sellable units and per pick-up store.
  Availability AvailabilityOf(const std::string& sku);

  // Places soft holds for `quantity` units of `sku` for a cart, expiring at `expires_ms`.
  // kInsufficientStock when the eligible locations cannot cover it; nothing is held then.
  Result<std::vector<Hold>> PlaceHolds(int64_t cart_id, const std::string& sku, int64_t quantity,
                                       const Eligibility& eligibility, int64_t expires_ms,
                                       const std::vector<int64_t>& preferred);
  // The sale event `sku` is in now, as this allocator first read it (its counters may have moved
  // since).
  const std::optional<SaleEventSku>& ActiveEvent(const std::string& sku);
  // Gives back a hold's units and deletes it.
  void ReleaseHold(const Hold& hold);
  // Releases up to `limit` expired holds of any SKU, oldest first, and when that many were
  // released and `sku` is not empty, up to `limit` more of that SKU's; returns how many.
  int ReleaseExpiredHolds(const std::string& sku, int limit);
  // Turns a live hold into an allocation for an order line.
  Allocation AllocateFromHold(const Hold& hold, int64_t order_id, int64_t line_id);
  // Gives back an open allocation (order cancelled).
  void ReleaseAllocation(const Allocation& allocation);
  // Ships an open allocation: the ledger records the sale and on_hand drops.
  void ShipAllocation(const Allocation& allocation, const std::string& reference);
  // Moves up to `units` of an open allocation to other locations that ship orders: all of them
  // when the others together can, else as many as they have. Returns the new allocations (empty
  // when nothing could move).
  std::vector<Allocation> Reallocate(const Allocation& allocation, int64_t units);
  // Gives back `units` of an open allocation without shipping them (the rest stays allocated).
  void ReleaseAllocationPart(const Allocation& allocation, int64_t units);
  // Releases holds of a SKU at a location, newest first, until at least `units` are freed.
  // Returns the units released.
  int64_t ReleaseHoldsAt(const std::string& sku, int64_t location_id, int64_t units);

 private:
  std::vector<StockLevel> EligibleLevels(const std::string& sku, const Eligibility& eligibility);
  // PlanSources, or, with a destination or a location that has a daily capacity, PlanSourcing
  // (distance and backlog against capacity). Empty when the levels cannot cover `quantity`.
  std::vector<Source> Plan(const std::vector<StockLevel>& levels, int64_t quantity,
                           const Eligibility& eligibility, const std::vector<int64_t>& preferred);
  // Takes units out of an allocation (closing it when none remain) without touching event counters.
  void MoveOutOfAllocation(const Allocation& allocation, int64_t units);
  const std::vector<Location>& LocationsCached();

  InventoryStore& store_;
  int64_t now_ms_;
  std::optional<std::vector<Location>> locations_;
  std::map<std::string, std::optional<SaleEventSku>> events_;
};

}  // namespace tandem::inventory
