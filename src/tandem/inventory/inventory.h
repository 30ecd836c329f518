// Inventory: locations, stock levels per (SKU, location), the append-only ledger, soft holds and
// hard allocations, and the InventoryStore seam the storage adapters implement.
//
// available = on_hand − reserved − allocated − safety_stock. Every change of on_hand is a ledger
// movement. Types are values; InventoryStore is used inside one transaction by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::inventory {

enum class LocationKind { kStore, kWarehouse, kDistributionCentre };
std::string_view LocationKindName(LocationKind kind);
std::optional<LocationKind> ParseLocationKind(std::string_view name);

struct Location {
  int64_t id = 0;
  std::string code;  // short unique code, e.g. "KL-CENTRAL"
  std::string name;
  LocationKind kind = LocationKind::kStore;
  std::string address;
  double latitude = 0;
  double longitude = 0;
  bool ships_orders = false;    // may serve delivery orders
  bool pickup = false;          // offers pick-up in store
  bool sells_in_store = false;  // has a till
  int64_t safety_stock_default = 0;  // units per SKU held back for walk-in customers
  int64_t daily_capacity = 0;        // parcels it prepares a day; 0: no limit
  bool operator==(const Location&) const = default;
};

struct StockLevel {
  std::string sku;
  int64_t location_id = 0;
  int64_t on_hand = 0;
  int64_t reserved = 0;      // soft holds from carts
  int64_t allocated = 0;     // hard, for placed orders not yet shipped
  int64_t safety_stock = 0;  // never promised online
  int64_t Available() const { return on_hand - reserved - allocated - safety_stock; }
};

enum class MovementReason {
  kReceipt,
  kSaleOnline,
  kSaleInStore,
  kReturn,
  kAdjustment,
  kCountCorrection,
  kTransferOut,
  kTransferIn,
};
std::string_view MovementReasonName(MovementReason reason);
std::optional<MovementReason> ParseMovementReason(std::string_view name);

struct Movement {
  int64_t id = 0;
  std::string sku;
  int64_t location_id = 0;
  int64_t delta = 0;  // change of on_hand
  MovementReason reason = MovementReason::kAdjustment;
  std::string reference;  // order number, adjustment note, till event id
  int64_t at_ms = 0;
};

struct Hold {
  int64_t id = 0;
  int64_t cart_id = 0;
  std::string sku;
  int64_t location_id = 0;
  int64_t quantity = 0;
  int64_t expires_ms = 0;
  std::optional<int64_t> event_id;  // counted against this sale event's ring-fenced quantity
};

struct Allocation {
  int64_t id = 0;
  int64_t order_id = 0;
  int64_t line_id = 0;
  std::string sku;
  int64_t location_id = 0;
  int64_t quantity = 0;
  bool open = true;
  std::optional<int64_t> event_id;
  bool shipped = false;
};

// A sale event: a time window in which a quantity of each of its SKUs is ring-fenced for the
// online channel (online commits at most that many units) and each customer may buy at most
// `per_customer_limit` units of each SKU.
struct SaleEvent {
  int64_t id = 0;
  std::string name;
  int64_t starts_ms = 0;
  int64_t ends_ms = 0;
  int64_t per_customer_limit = 0;
  int64_t created_ms = 0;
  bool ActiveAt(int64_t now_ms) const { return starts_ms <= now_ms && now_ms < ends_ms; }
};

struct SaleEventSku {
  int64_t event_id = 0;
  std::string sku;
  int64_t ring_fenced = 0;
  int64_t committed = 0;  // held in carts or allocated (shipped included) under the event
};

struct Transfer {
  int64_t id = 0;
  std::string sku;
  int64_t from_location_id = 0;
  int64_t to_location_id = 0;
  int64_t quantity = 0;
  std::string status = "in_transit";  // in_transit | received
  std::string note;
  int64_t created_ms = 0;
  int64_t received_ms = 0;
};

// The event counter of one SKU next to the holds and allocations that must add up to it.
struct EventTotals {
  int64_t event_id = 0;
  std::string sku;
  int64_t ring_fenced = 0;
  int64_t committed = 0;
  int64_t holds_sum = 0;
  int64_t allocations_sum = 0;
};

// The counters of one (SKU, location) next to the sums that must equal them (see `tandem check`).
struct LevelTotals {
  std::string sku;
  int64_t location_id = 0;
  bool has_level = false;
  int64_t on_hand = 0, ledger_sum = 0;
  int64_t reserved = 0, holds_sum = 0;
  int64_t allocated = 0, allocations_sum = 0;
  int64_t safety_stock = 0;
};

// Persistence of inventory, used inside one transaction. The Try*/Record* methods are conditional
// updates: they change nothing and return false when their guard fails, so correctness never
// depends on the database having a single writer.
class InventoryStore {
 public:
  virtual ~InventoryStore() = default;

  virtual int64_t InsertLocation(const Location& location) = 0;
  virtual std::vector<Location> Locations() = 0;
  // Parcels waiting to leave the location (open and packed shipments): its backlog against its
  // daily capacity.
  virtual int64_t BacklogAt(int64_t location_id) = 0;
  virtual std::optional<Location> FindLocation(int64_t id) = 0;
  virtual std::optional<Location> FindLocationByCode(const std::string& code) = 0;

  // Levels of one SKU at every location that has a row for it.
  virtual std::vector<StockLevel> Levels(const std::string& sku) = 0;
  // Levels at one location, ordered by SKU, after `after_sku`.
  virtual std::vector<StockLevel> LevelsAt(int64_t location_id, const std::string& after_sku,
                                           int limit) = 0;
  virtual std::optional<StockLevel> Level(const std::string& sku, int64_t location_id) = 0;
  // Creates the row with zero counters when missing.
  virtual void EnsureLevel(const std::string& sku, int64_t location_id, int64_t safety_stock) = 0;

  // reserved += qty, guarded by available >= qty.
  virtual bool TryReserve(const std::string& sku, int64_t location_id, int64_t qty) = 0;
  // reserved -= qty, guarded by reserved >= qty.
  virtual bool TryUnreserve(const std::string& sku, int64_t location_id, int64_t qty) = 0;
  // reserved -= qty and allocated += qty, guarded by reserved >= qty.
  virtual bool TryReservedToAllocated(const std::string& sku, int64_t location_id,
                                      int64_t qty) = 0;
  // allocated -= qty, guarded by allocated >= qty.
  virtual bool TryUnallocate(const std::string& sku, int64_t location_id, int64_t qty) = 0;
  // on_hand += m.delta and allocated += allocated_delta, guarded so that on_hand still covers
  // reserved + allocated; appends the movement to the ledger. Returns the movement id, 0 if refused.
  virtual int64_t RecordMovement(const Movement& m, int64_t allocated_delta) = 0;
  // on_hand += m.delta with no guard (a physical fact: a till sale, a count) and appends the
  // movement. The caller then resolves any shortfall. Returns the movement id.
  virtual int64_t ForceMovement(const Movement& m) = 0;
  // allocated += qty, guarded by available >= qty.
  virtual bool TryAllocate(const std::string& sku, int64_t location_id, int64_t qty) = 0;
  // safety_stock = qty, guarded by on_hand still covering reserved + allocated + qty.
  virtual bool TrySetSafetyStock(const std::string& sku, int64_t location_id, int64_t qty) = 0;
  // Movements of one level, newest first, with ids below `before_id` (0: from the newest).
  virtual std::vector<Movement> MovementsOf(const std::string& sku, int64_t location_id,
                                            int64_t before_id, int limit) = 0;

  // The new hold's id, greater than the cart's other holds' ids; 0 (nothing inserted) when the
  // cart has placed as many holds as the store can number for one cart (a limit of the adapter).
  virtual int64_t InsertHold(const Hold& hold) = 0;
  // In id order.
  virtual std::vector<Hold> HoldsOfCart(int64_t cart_id) = 0;
  // Holds of a SKU at a location, those of the newest carts first.
  virtual std::vector<Hold> HoldsAt(const std::string& sku, int64_t location_id) = 0;
  virtual void DeleteHold(int64_t hold_id) = 0;
  // Moves the expiry of the cart's holds that are still live (expires_ms > now_ms).
  virtual void ExtendHolds(int64_t cart_id, int64_t now_ms, int64_t expires_ms) = 0;
  // Holds with expires_ms <= now_ms, oldest first; of one SKU when `sku` is not empty.
  virtual std::vector<Hold> ExpiredHolds(int64_t now_ms, const std::string& sku, int limit) = 0;

  virtual int64_t InsertAllocation(const Allocation& allocation) = 0;
  virtual std::vector<Allocation> AllocationsOfOrder(int64_t order_id) = 0;
  // Open allocations of a SKU at a location, newest first, at most `limit`.
  virtual std::vector<Allocation> OpenAllocationsAt(const std::string& sku, int64_t location_id,
                                                    int64_t limit) = 0;
  // Open allocations at a location (every SKU), oldest first, at most `limit`.
  virtual std::vector<Allocation> OpenAllocationsOfLocation(int64_t location_id, int limit) = 0;
  // Closes an open allocation, as shipped or as given back.
  virtual void CloseAllocation(int64_t allocation_id, bool shipped) = 0;
  // Lowers an open allocation's quantity (to at least 1); counters are the caller's business.
  virtual void ShrinkAllocation(int64_t allocation_id, int64_t quantity) = 0;

  // Every (SKU, location) named by a level, a movement, a hold or an open allocation.
  virtual std::vector<LevelTotals> Totals() = 0;

  virtual int64_t InsertSaleEvent(const SaleEvent& event, const std::vector<SaleEventSku>& skus) = 0;
  virtual std::optional<SaleEvent> FindSaleEvent(int64_t id) = 0;
  virtual std::vector<SaleEvent> SaleEvents(int limit) = 0;
  virtual std::vector<SaleEventSku> SaleEventSkus(int64_t event_id) = 0;
  // The event whose window contains `now_ms` and that ring-fences `sku`, with its counter.
  virtual std::optional<SaleEventSku> ActiveEventSku(const std::string& sku, int64_t now_ms) = 0;
  // Events of `sku` whose window overlaps [starts_ms, ends_ms).
  virtual bool EventOverlaps(const std::string& sku, int64_t starts_ms, int64_t ends_ms) = 0;
  // committed += qty, guarded by committed + qty <= ring_fenced.
  virtual bool TryCommitEvent(int64_t event_id, const std::string& sku, int64_t qty) = 0;
  // committed -= qty, guarded by committed >= qty.
  virtual bool TryUncommitEvent(int64_t event_id, const std::string& sku, int64_t qty) = 0;
  // Units a customer bought of a SKU under an event so far.
  virtual int64_t Purchased(int64_t event_id, const std::string& customer_key,
                            const std::string& sku) = 0;
  // Adds `qty` to what the customer bought, guarded in the same statement by the new total
  // staying within `limit`; false (nothing recorded) past it.
  virtual bool TryAddPurchase(int64_t event_id, const std::string& customer_key,
                              const std::string& sku, int64_t qty, int64_t limit) = 0;
  // Event counters with their sums: of one event, or of every event when `event_id` is 0.
  virtual std::vector<EventTotals> EventTotalsOf(int64_t event_id) = 0;

  virtual int64_t InsertTransfer(const Transfer& transfer) = 0;
  virtual std::optional<Transfer> FindTransfer(int64_t id) = 0;
  // Marks an in-transit transfer received; false when it was not in transit.
  virtual bool MarkTransferReceived(int64_t id, int64_t now_ms) = 0;
  // Newest first, ids below `before_id` (0: from the newest); of one status when not empty.
  virtual std::vector<Transfer> Transfers(const std::string& status, int64_t before_id,
                                          int limit) = 0;
};

// One discrepancy per broken rule: on_hand = Σ ledger, reserved = Σ holds, allocated = Σ open
// allocations, reserved and allocated never negative and covered by on_hand. (on_hand may be
// negative after a till sold units the books did not know of; the ledger still explains it.)
// Empty when everything holds.
std::vector<std::string> FindDiscrepancies(const std::vector<LevelTotals>& totals);
// One discrepancy per event SKU whose counter differs from its holds and allocations.
std::vector<std::string> FindEventDiscrepancies(const std::vector<EventTotals>& totals);

}  // namespace tandem::inventory
