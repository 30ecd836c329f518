// Shipments: an order's allocations at one location, picked, packed by scanning every unit, and
// shipped with a carrier or handed over at the store (pick-up). The order follows its shipments:
// ready once all are packed, shipped once all left, delivered once all arrived.
//
// Every function runs inside the caller's write transaction (a refused one changes nothing once
// the caller rolls back). Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/payments/payments.h"

namespace tandem::fulfillment {

enum class ShipmentStatus {
  kOpen,            // to be picked and packed
  kPacked,          // every unit scanned
  kShipped,         // handed to the carrier
  kInTransit,
  kOutForDelivery,
  kFailedAttempt,
  kDelivered,
  kReturned,
  kReadyForPickup,  // packed at the pick-up store, waiting for the customer
  kHandedOver,      // collected with the hand-over code
  kCancelled,
};
std::string_view ShipmentStatusName(ShipmentStatus status);
std::optional<ShipmentStatus> ParseShipmentStatus(std::string_view name);
// The statuses a carrier reports.
bool IsCarrierStatus(ShipmentStatus status);

struct ShipmentUnit {
  std::string sku;
  std::string name;
  std::string options;
  std::string barcode;
  int64_t quantity = 0;  // allocated here
  int64_t scanned = 0;
};

struct Shipment {
  int64_t id = 0;
  int64_t order_id = 0;
  int64_t location_id = 0;
  ShipmentStatus status = ShipmentStatus::kOpen;
  std::string carrier;
  std::string service;
  std::string tracking_number;
  std::string handover_code;  // pick-up only, set when ready
  int64_t ready_ms = 0;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
  // Filled by the service functions (not stored).
  std::string order_number;
  std::string location_name;
  std::vector<ShipmentUnit> units;
};

struct ShipmentEvent {
  std::string event_id;
  ShipmentStatus status = ShipmentStatus::kInTransit;
  std::string detail;
  int64_t at_ms = 0;
};

class FulfillmentStore {
 public:
  virtual ~FulfillmentStore() = default;
  // Inserts the shipment of (order, location) unless there is one; returns its id either way.
  virtual int64_t EnsureShipment(int64_t order_id, int64_t location_id, int64_t now_ms) = 0;
  virtual std::optional<Shipment> FindShipment(int64_t id) = 0;
  virtual std::vector<Shipment> ShipmentsOfOrder(int64_t order_id) = 0;
  // Shipments at a location in a status, oldest first.
  virtual std::vector<Shipment> ShipmentsAt(int64_t location_id, ShipmentStatus status,
                                            int limit) = 0;
  virtual std::optional<Shipment> FindShipmentByTracking(const std::string& tracking_number) = 0;
  // Guarded: moves a shipment from `from` to `to` (with the carrier's details when not empty);
  // false when it is no longer in `from`.
  virtual bool TryMove(int64_t id, ShipmentStatus from, ShipmentStatus to,
                       const std::string& carrier, const std::string& service,
                       const std::string& tracking_number, int64_t now_ms) = 0;
  virtual void SetHandoverCode(int64_t id, const std::string& code, int64_t ready_ms) = 0;
  // Units of each SKU scanned into the shipment.
  virtual std::map<std::string, int64_t> Scans(int64_t shipment_id) = 0;
  // Guarded: one more unit of `sku` scanned while fewer than `allocated` were; false otherwise.
  virtual bool TryScan(int64_t shipment_id, const std::string& sku, int64_t allocated) = 0;
  // Guarded: records a carrier event once; false when its id was recorded before.
  virtual bool TryRecordEvent(int64_t shipment_id, const ShipmentEvent& event) = 0;
  virtual std::vector<ShipmentEvent> EventsOf(int64_t shipment_id) = 0;
  // The SKU whose barcode this is.
  virtual std::optional<std::string> SkuOfBarcode(const std::string& barcode) = 0;
  virtual std::string BarcodeOf(const std::string& sku) = 0;
  // Pick-ups ready before `before_ms` and not collected, oldest first.
  virtual std::vector<int64_t> UncollectedPickups(int64_t before_ms, int limit) = 0;
  // For `tandem check`, one line each: units shipped or handed over from a location that did not
  // leave its ledger exactly once (per order, SKU and location).
  virtual std::vector<std::string> Discrepancies() = 0;
};

struct FulfillmentContext {
  payments::PaymentContext& pay;
  FulfillmentStore& store;
  orders::OrderContext& order() { return pay.order; }
};

// Opens the shipments of an order being prepared: one per location holding its allocations
// (again after a stock conflict moved some). Idempotent.
Status OpenShipments(FulfillmentContext& ctx, const orders::Order& order);

// An order cancelled before its shipments left: they are cancelled too (nothing is picked).
Status CancelShipments(FulfillmentContext& ctx, const orders::Order& order);

// A shipment with its units (allocated and scanned per SKU).
Result<Shipment> ViewShipment(FulfillmentContext& ctx, int64_t shipment_id);
Result<std::vector<Shipment>> ShipmentsOfOrder(FulfillmentContext& ctx, int64_t order_id);

// Packs one unit: `code` is the unit's barcode (EAN-13) or SKU. kWrongItem for a unit that is
// not in the shipment or one more than it holds; kInvalidTransition when the shipment is not
// being packed. When every unit is scanned the shipment is packed (a pick-up is ready, with a
// hand-over code).
Result<Shipment> Scan(FulfillmentContext& ctx, int64_t shipment_id, const std::string& code);

struct ShipRequest {
  std::string carrier;
  std::string service;
  std::string tracking_number;
};
// Hands a packed shipment to the carrier: its units leave the ledger once.
Result<Shipment> Ship(FulfillmentContext& ctx, int64_t shipment_id, const ShipRequest& request);

// What a carrier reports about a shipment (by tracking number), applied once per event id;
// reports about an earlier stage arriving late are kept but move nothing back.
Result<Shipment> CarrierUpdate(FulfillmentContext& ctx, const std::string& tracking_number,
                               const ShipmentEvent& event);

// The customer collects a pick-up with its code; kWrongCode for any other code.
Result<Shipment> HandOver(FulfillmentContext& ctx, int64_t shipment_id, const std::string& code);

// Pick-ups not collected within `ttl_ms` of being ready go back to stock (the order is
// cancelled and the customer told). Returns how many.
int ExpireUncollected(FulfillmentContext& ctx, int64_t ttl_ms, int limit);

// What to pick at a location: the open shipments (all, or those of `order_ids`), units grouped
// by SKU.
struct PickLine {
  std::string sku;
  std::string name;
  std::string options;
  std::string barcode;
  int64_t quantity = 0;
  std::vector<std::pair<std::string, int64_t>> per_order;  // order number, units
};
struct PickList {
  int64_t location_id = 0;
  std::string location_name;
  std::vector<Shipment> shipments;
  std::vector<PickLine> lines;
};
Result<PickList> BuildPickList(FulfillmentContext& ctx, int64_t location_id,
                               const std::vector<int64_t>& order_ids);

}  // namespace tandem::fulfillment
