#include "tandem/fulfillment/shipments.h"

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "tandem/base/check.h"
#include "tandem/base/crypto.h"
#include "tandem/base/enum_names.h"
#include "tandem/base/limits.h"
#include "tandem/inventory/allocator.h"

namespace tandem::fulfillment {
namespace {

using orders::Order;
using orders::OrderStatus;
using S = ShipmentStatus;

constexpr std::array<std::pair<ShipmentStatus, std::string_view>, 11> kShipmentNames{{
    {S::kOpen, "open"},
    {S::kPacked, "packed"},
    {S::kShipped, "shipped"},
    {S::kInTransit, "in_transit"},
    {S::kOutForDelivery, "out_for_delivery"},
    {S::kFailedAttempt, "failed_attempt"},
    {S::kDelivered, "delivered"},
    {S::kReturned, "returned"},
    {S::kReadyForPickup, "ready_for_pickup"},
    {S::kHandedOver, "handed_over"},
    {S::kCancelled, "cancelled"},
}};

// How far along the road a shipment is; a carrier's late report of an earlier stage moves
// nothing back.
int Stage(ShipmentStatus s) {
  switch (s) {
    case S::kShipped: return 1;
    case S::kInTransit: return 2;
    case S::kOutForDelivery:
    case S::kFailedAttempt: return 3;
    case S::kDelivered:
    case S::kReturned: return 4;
    default: return 0;
  }
}

bool LeftTheLocation(ShipmentStatus s) { return Stage(s) > 0 || s == S::kHandedOver; }

std::string PublicText(ShipmentStatus s) {
  switch (s) {
    case S::kShipped: return "Shipped";
    case S::kInTransit: return "In transit";
    case S::kOutForDelivery: return "Out for delivery";
    case S::kFailedAttempt: return "Delivery attempted; the carrier will try again";
    case S::kDelivered: return "Delivered";
    case S::kReturned: return "Returned to us by the carrier";
    case S::kReadyForPickup: return "Ready for pick-up";
    case S::kHandedOver: return "Collected";
    default: return std::string(ShipmentStatusName(s));
  }
}

void Tell(FulfillmentContext& ctx, const Order& order, const std::string& kind,
          const std::string& subject, const std::string& body) {
  payments::TellCustomer(ctx.pay, order, kind, subject, body);
}

Result<Order> LoadOrder(FulfillmentContext& ctx, int64_t order_id) {
  std::optional<Order> order = ctx.order().orders.FindOrder(order_id);
  if (!order) return Status(Code::kNotFound, "no order " + std::to_string(order_id));
  return std::move(*order);
}

// The shipment's units: the order's allocations at its location (open, or shipped from there),
// named after the order's lines, with the scans.
void FillUnits(FulfillmentContext& ctx, const Order& order, Shipment& s) {
  s.order_number = order.number;
  if (std::optional<inventory::Location> l = ctx.order().inventory.FindLocation(s.location_id)) {
    s.location_name = l->name;
  }
  std::map<std::string, int64_t> scans = ctx.store.Scans(s.id);
  s.units.clear();
  for (const inventory::Allocation& a : ctx.order().inventory.AllocationsOfOrder(order.id)) {
    if (a.location_id != s.location_id || (!a.open && !a.shipped)) continue;
    auto unit = std::find_if(s.units.begin(), s.units.end(),
                             [&](const ShipmentUnit& u) { return u.sku == a.sku; });
    if (unit == s.units.end()) {
      ShipmentUnit u;
      u.sku = a.sku;
      for (const orders::OrderLine& line : order.lines) {
        if (line.id == a.line_id) {
          u.name = line.name;
          u.options = line.options;
        }
      }
      u.barcode = ctx.store.BarcodeOf(a.sku);
      u.scanned = scans.count(a.sku) ? scans[a.sku] : 0;
      s.units.push_back(std::move(u));
      unit = s.units.end() - 1;
    }
    unit->quantity += a.quantity;
  }
}

Result<std::pair<Shipment, Order>> Load(FulfillmentContext& ctx, int64_t shipment_id) {
  std::optional<Shipment> s = ctx.store.FindShipment(shipment_id);
  if (!s) return Status(Code::kNotFound, "no shipment " + std::to_string(shipment_id));
  Result<Order> order = LoadOrder(ctx, s->order_id);
  if (!order.ok()) return order.status();
  FillUnits(ctx, *order, *s);
  return std::pair{std::move(*s), std::move(order.value())};
}

Status Move(FulfillmentContext& ctx, const Shipment& s, ShipmentStatus to,
            const ShipRequest& carrier = {}) {
  if (!ctx.store.TryMove(s.id, s.status, to, carrier.carrier, carrier.service,
                         carrier.tracking_number, ctx.order().now_ms)) {
    return Status(Code::kConflict, "the shipment changed meanwhile; reload and retry");
  }
  return Status();
}

// Moves the order along when all its shipments have reached a stage.
Result<Order> Advance(FulfillmentContext& ctx, const Order& order, OrderStatus to,
                      const std::string& note, const std::string& public_note,
                      const ShipRequest& carrier = {}) {
  orders::TransitionRequest t;
  t.to = to;
  t.note = note;
  t.public_note = public_note;
  t.carrier = carrier.carrier;
  t.tracking_number = carrier.tracking_number;
  return orders::TransitionOrder(ctx.order(), order.id, t);
}

bool AllShipments(FulfillmentContext& ctx, int64_t order_id, bool (*reached)(ShipmentStatus)) {
  std::vector<Shipment> all = ctx.store.ShipmentsOfOrder(order_id);
  return !all.empty() && std::all_of(all.begin(), all.end(), [&](const Shipment& s) {
    return s.status == S::kCancelled || reached(s.status);
  });
}

// A shipment leaves only while its order is being prepared (not cancelled meanwhile).
Status BeingPrepared(const Order& order) {
  if (order.status == OrderStatus::kProcessing || order.status == OrderStatus::kReady) {
    return Status();
  }
  return Status(Code::kInvalidTransition, "the order is " +
                                              std::string(orders::StatusName(order.status)) +
                                              "; nothing of it leaves now");
}

void ShipUnits(FulfillmentContext& ctx, const Order& order, int64_t location_id) {
  inventory::Allocator allocator(ctx.order().inventory, ctx.order().now_ms);
  for (const inventory::Allocation& a : ctx.order().inventory.AllocationsOfOrder(order.id)) {
    if (a.open && a.location_id == location_id) allocator.ShipAllocation(a, order.number);
  }
}

}  // namespace

std::string_view ShipmentStatusName(ShipmentStatus s) { return NameOf(kShipmentNames, s); }
std::optional<ShipmentStatus> ParseShipmentStatus(std::string_view n) {
  return ParseName(kShipmentNames, n);
}
bool IsCarrierStatus(ShipmentStatus s) { return Stage(s) >= 2; }

Status OpenShipments(FulfillmentContext& ctx, const Order& order) {
  std::set<int64_t> locations;
  for (const inventory::Allocation& a : ctx.order().inventory.AllocationsOfOrder(order.id)) {
    if (a.open) locations.insert(a.location_id);
  }
  std::set<int64_t> known;
  for (const Shipment& s : ctx.store.ShipmentsOfOrder(order.id)) known.insert(s.location_id);
  for (int64_t location : locations) {
    if (known.count(location)) continue;
    ctx.store.EnsureShipment(order.id, location, ctx.order().now_ms);
    std::string name = std::to_string(location);
    if (auto l = ctx.order().inventory.FindLocation(location)) name = l->name;
    ctx.order().orders.AppendTimeline(
        order.id, {ctx.order().now_ms, ctx.order().actor, "", "",
                   "shipment to prepare at " + name, ""});
  }
  return Status();
}

Status CancelShipments(FulfillmentContext& ctx, const Order& order) {
  for (const Shipment& s : ctx.store.ShipmentsOfOrder(order.id)) {
    if (s.status == S::kOpen || s.status == S::kPacked || s.status == S::kReadyForPickup) {
      ctx.store.TryMove(s.id, s.status, S::kCancelled, "", "", "", ctx.order().now_ms);
    }
  }
  return Status();
}

Result<Shipment> ViewShipment(FulfillmentContext& ctx, int64_t shipment_id) {
  Result<std::pair<Shipment, Order>> loaded = Load(ctx, shipment_id);
  if (!loaded.ok()) return loaded.status();
  return std::move(loaded->first);
}

Result<std::vector<Shipment>> ShipmentsOfOrder(FulfillmentContext& ctx, int64_t order_id) {
  Result<Order> order = LoadOrder(ctx, order_id);
  if (!order.ok()) return order.status();
  std::vector<Shipment> all = ctx.store.ShipmentsOfOrder(order_id);
  for (Shipment& s : all) FillUnits(ctx, *order, s);
  return all;
}

Result<Shipment> Scan(FulfillmentContext& ctx, int64_t shipment_id, const std::string& code) {
  Result<std::pair<Shipment, Order>> loaded = Load(ctx, shipment_id);
  if (!loaded.ok()) return loaded.status();
  auto& [shipment, order] = *loaded;
  if (shipment.status != S::kOpen) {
    return Status(Code::kInvalidTransition,
                  "the shipment is " + std::string(ShipmentStatusName(shipment.status)) +
                      "; only an open shipment is packed");
  }
  if (order.status != OrderStatus::kPaid && order.status != OrderStatus::kProcessing) {
    return Status(Code::kInvalidTransition,
                  "the order is " + std::string(orders::StatusName(order.status)) +
                      "; it is packed once paid (or, cash on delivery, once processing)");
  }
  std::string sku = ctx.store.SkuOfBarcode(code).value_or(code);
  auto unit = std::find_if(shipment.units.begin(), shipment.units.end(),
                           [&](const ShipmentUnit& u) { return u.sku == sku; });
  if (unit == shipment.units.end()) {
    return Status(Code::kWrongItem, "wrong item: " + code + " is not in this shipment");
  }
  if (unit->scanned >= unit->quantity) {
    return Status(Code::kWrongItem, "extra unit: all " + std::to_string(unit->quantity) +
                                        " of " + sku + " are packed already");
  }
  if (!ctx.store.TryScan(shipment.id, sku, unit->quantity)) {
    return Status(Code::kConflict, "the shipment changed meanwhile; scan again");
  }
  ++unit->scanned;
  if (order.status == OrderStatus::kPaid) {
    Result<Order> processing = Advance(ctx, order, OrderStatus::kProcessing,
                                       "packing started", "Being prepared");
    if (!processing.ok()) return processing.status();
    order = std::move(processing.value());
  }
  bool complete = std::all_of(shipment.units.begin(), shipment.units.end(),
                              [](const ShipmentUnit& u) { return u.scanned == u.quantity; });
  if (!complete) return std::move(shipment);

  bool pickup = order.fulfillment.method == orders::FulfillmentMethod::kPickup;
  TANDEM_RETURN_IF_ERROR(Move(ctx, shipment, S::kPacked));
  shipment.status = S::kPacked;
  ctx.order().orders.AppendTimeline(
      order.id, {ctx.order().now_ms, ctx.order().actor, "", "",
                 "shipment " + std::to_string(shipment.id) + " packed at " +
                     shipment.location_name + " (every unit scanned)",
                 ""});
  if (pickup) {
    shipment.handover_code = RandomCode(kHandoverCodeLength);
    ctx.store.SetHandoverCode(shipment.id, shipment.handover_code, ctx.order().now_ms);
    TANDEM_RETURN_IF_ERROR(Move(ctx, shipment, S::kReadyForPickup));
    shipment.status = S::kReadyForPickup;
  }
  if (AllShipments(ctx, order.id, [](ShipmentStatus s) {
        return s != S::kOpen;
      })) {
    Result<Order> ready = Advance(ctx, order, OrderStatus::kReady, "every shipment is packed",
                                  pickup ? "Ready for pick-up" : "Prepared");
    if (!ready.ok()) return ready.status();
    if (pickup) {
      Tell(ctx, *ready, "ready_for_pickup", "Your order is ready for pick-up",
           "Your order is ready at " + shipment.location_name +
               ". Show this hand-over code at the counter: " + shipment.handover_code + ".");
    } else {
      Tell(ctx, *ready, "order_prepared", "Your order is prepared",
           "Your order is packed and will be handed to the carrier shortly.");
    }
  }
  return std::move(shipment);
}

Result<Shipment> Ship(FulfillmentContext& ctx, int64_t shipment_id, const ShipRequest& request) {
  if (request.carrier.empty() || request.tracking_number.empty()) {
    return Status(Code::kInvalidArgument, "carrier and tracking_number are required");
  }
  Result<std::pair<Shipment, Order>> loaded = Load(ctx, shipment_id);
  if (!loaded.ok()) return loaded.status();
  auto& [shipment, order] = *loaded;
  if (shipment.status != S::kPacked) {
    return Status(Code::kInvalidTransition,
                  "the shipment is " + std::string(ShipmentStatusName(shipment.status)) +
                      "; a shipment is shipped once packed");
  }
  if (order.fulfillment.method == orders::FulfillmentMethod::kPickup) {
    return Status(Code::kInvalidTransition, "a pick-up is handed over, not shipped");
  }
  TANDEM_RETURN_IF_ERROR(BeingPrepared(order));
  ShipUnits(ctx, order, shipment.location_id);
  TANDEM_RETURN_IF_ERROR(Move(ctx, shipment, S::kShipped, request));
  shipment.status = S::kShipped;
  shipment.carrier = request.carrier;
  shipment.service = request.service;
  shipment.tracking_number = request.tracking_number;
  std::string what = request.carrier + " " + request.tracking_number;
  ctx.order().orders.AppendTimeline(
      order.id, {ctx.order().now_ms, ctx.order().actor, "", "",
                 "shipment " + std::to_string(shipment.id) + " shipped from " +
                     shipment.location_name,
                 "Shipped with " + what});
  if (AllShipments(ctx, order.id, LeftTheLocation)) {
    Result<Order> shipped =
        Advance(ctx, order, OrderStatus::kShipped, "every shipment left", "Shipped", request);
    if (!shipped.ok()) return shipped.status();
  }
  Tell(ctx, order, "order_shipped", "Your order is on its way",
       "A parcel of your order left us with " + request.carrier + ", tracking number " +
           request.tracking_number + ".");
  return std::move(shipment);
}

Result<Shipment> CarrierUpdate(FulfillmentContext& ctx, const std::string& tracking_number,
                               const ShipmentEvent& event) {
  if (!IsCarrierStatus(event.status)) {
    return Status(Code::kInvalidArgument, "status is not one a carrier reports");
  }
  std::optional<Shipment> found = ctx.store.FindShipmentByTracking(tracking_number);
  if (!found) return Status(Code::kNotFound, "no shipment with that tracking number");
  Result<std::pair<Shipment, Order>> loaded = Load(ctx, found->id);
  if (!loaded.ok()) return loaded.status();
  auto& [shipment, order] = *loaded;
  if (!ctx.store.TryRecordEvent(shipment.id, event)) return std::move(shipment);  // applied once
  bool forward = Stage(shipment.status) >= 1 && Stage(shipment.status) < 4 &&
                 Stage(event.status) >= Stage(shipment.status) && event.status != shipment.status;
  if (!forward) return std::move(shipment);  // a late report of an earlier stage
  TANDEM_RETURN_IF_ERROR(Move(ctx, shipment, event.status));
  shipment.status = event.status;
  ctx.order().orders.AppendTimeline(
      order.id, {event.at_ms, "carrier", "", "",
                 "shipment " + std::to_string(shipment.id) + ": " +
                     std::string(ShipmentStatusName(event.status)) +
                     (event.detail.empty() ? "" : " (" + event.detail + ")"),
                 PublicText(event.status)});
  if (event.status == S::kDelivered &&
      AllShipments(ctx, order.id, [](ShipmentStatus s) { return s == S::kDelivered; })) {
    Result<Order> delivered = Advance(ctx, order, OrderStatus::kDelivered,
                                      "the carrier delivered every shipment", "Delivered");
    if (!delivered.ok()) return delivered.status();
    if (order.payment_method == orders::PaymentMethod::kCashOnDelivery) {
      TANDEM_RETURN_IF_ERROR(payments::CollectAtDoor(ctx.pay, *delivered));
    }
    Tell(ctx, *delivered, "order_delivered", "Your order was delivered",
         "Your order has arrived. We would love to hear what you think: review it from your "
         "order page.");
  } else if (event.status == S::kFailedAttempt) {
    Tell(ctx, order, "delivery_failed", "We missed you",
         "The carrier could not deliver your parcel and will try again.");
  }
  return std::move(shipment);
}

Result<Shipment> HandOver(FulfillmentContext& ctx, int64_t shipment_id, const std::string& code) {
  Result<std::pair<Shipment, Order>> loaded = Load(ctx, shipment_id);
  if (!loaded.ok()) return loaded.status();
  auto& [shipment, order] = *loaded;
  if (shipment.status != S::kReadyForPickup) {
    return Status(Code::kInvalidTransition,
                  "the shipment is " + std::string(ShipmentStatusName(shipment.status)) +
                      "; only a pick-up that is ready is handed over");
  }
  TANDEM_RETURN_IF_ERROR(BeingPrepared(order));
  if (!SecretsEqual(code, shipment.handover_code)) {
    return Status(Code::kWrongCode, "that is not this order's hand-over code");
  }
  ShipUnits(ctx, order, shipment.location_id);
  TANDEM_RETURN_IF_ERROR(Move(ctx, shipment, S::kHandedOver));
  shipment.status = S::kHandedOver;
  if (AllShipments(ctx, order.id, [](ShipmentStatus s) { return s == S::kHandedOver; })) {
    Result<Order> delivered = Advance(ctx, order, OrderStatus::kDelivered,
                                      "handed over at " + shipment.location_name, "Collected");
    if (!delivered.ok()) return delivered.status();
    TANDEM_RETURN_IF_ERROR(payments::CollectAtDoor(ctx.pay, *delivered));
    Tell(ctx, *delivered, "order_delivered", "Thank you for collecting your order",
         "You collected your order at " + shipment.location_name +
             ". We would love to hear what you think: review it from your order page.");
  }
  return std::move(shipment);
}

int ExpireUncollected(FulfillmentContext& ctx, int64_t ttl_ms, int limit) {
  int expired = 0;
  for (int64_t id : ctx.store.UncollectedPickups(ctx.order().now_ms - ttl_ms, limit)) {
    Result<std::pair<Shipment, Order>> loaded = Load(ctx, id);
    if (!loaded.ok()) continue;
    auto& [shipment, order] = *loaded;
    if (!ctx.store.TryMove(id, S::kReadyForPickup, S::kCancelled, "", "", "",
                           ctx.order().now_ms)) {
      continue;
    }
    Result<Order> cancelled =
        Advance(ctx, order, OrderStatus::kCancelled, "not collected in time; stock returned",
                "Cancelled: not collected in time");
    if (!cancelled.ok()) continue;
    Tell(ctx, order, "pickup_expired", "Your pick-up was cancelled",
         "You did not collect your order at " + shipment.location_name +
             " in time, so we have cancelled it and put the items back on sale.");
    ++expired;
  }
  return expired;
}

Result<PickList> BuildPickList(FulfillmentContext& ctx, int64_t location_id,
                               const std::vector<int64_t>& order_ids) {
  std::optional<inventory::Location> location = ctx.order().inventory.FindLocation(location_id);
  if (!location) return Status(Code::kNotFound, "no location " + std::to_string(location_id));
  PickList list;
  list.location_id = location_id;
  list.location_name = location->name;
  std::set<int64_t> wanted(order_ids.begin(), order_ids.end());
  for (Shipment& s : ctx.store.ShipmentsAt(location_id, S::kOpen, kPickListOrdersMax)) {
    if (!wanted.empty() && !wanted.count(s.order_id)) continue;
    Result<Order> order = LoadOrder(ctx, s.order_id);
    if (!order.ok()) continue;
    if (order->status != OrderStatus::kPaid && order->status != OrderStatus::kProcessing) continue;
    FillUnits(ctx, *order, s);
    for (const ShipmentUnit& u : s.units) {
      auto line = std::find_if(list.lines.begin(), list.lines.end(),
                               [&](const PickLine& l) { return l.sku == u.sku; });
      if (line == list.lines.end()) {
        list.lines.push_back({u.sku, u.name, u.options, u.barcode, 0, {}});
        line = list.lines.end() - 1;
      }
      line->quantity += u.quantity - u.scanned;
      line->per_order.emplace_back(s.order_number, u.quantity - u.scanned);
    }
    list.shipments.push_back(std::move(s));
  }
  std::sort(list.lines.begin(), list.lines.end(),
            [](const PickLine& a, const PickLine& b) { return a.sku < b.sku; });
  return list;
}

}  // namespace tandem::fulfillment
