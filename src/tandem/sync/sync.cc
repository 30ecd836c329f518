#include "tandem/sync/sync.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "tandem/base/crypto.h"
#include "tandem/base/enum_names.h"
#include "tandem/base/limits.h"
#include "tandem/inventory/allocator.h"

namespace tandem::sync {
namespace {

// Another upload of the same till changed what this one read (on an engine that runs writes
// side by side): nothing of this one is kept, and the till sends the batch again.
Status ConcurrentUpload() {
  return Status(Code::kConflict,
                "another upload of this till ran at the same time; send the batch again");
}

constexpr std::array<std::pair<EventType, std::string_view>, 4> kTypeNames{{
    {EventType::kSale, "sale"},
    {EventType::kReturn, "return"},
    {EventType::kReceipt, "receipt"},
    {EventType::kAdjustment, "adjustment"},
}};

std::string ContentHash(const std::string& till_id, const TillEvent& e) {
  std::string text = till_id + "\n" + std::to_string(e.seq) + "\n" +
                     std::string(EventTypeName(e.type)) + "\n" + std::to_string(e.occurred_ms);
  for (const EventLine& l : e.lines) text += "\n" + l.sku + "=" + std::to_string(l.quantity);
  return HashToken(text);
}

Status ValidateEvent(const TillEvent& e, size_t index) {
  std::string at = "events[" + std::to_string(index) + "]";
  if (e.id.empty() || e.id.size() > 100) return Status(Code::kInvalidArgument, at + ".id must be 1-100 bytes");
  if (e.seq < 1) return Status(Code::kInvalidArgument, at + ".seq must be 1 or more");
  if (e.lines.empty() || e.lines.size() > static_cast<size_t>(kCartLinesMax)) {
    return Status(Code::kInvalidArgument,
                  at + ".lines must hold 1 to " + std::to_string(kCartLinesMax) + " lines");
  }
  for (const EventLine& l : e.lines) {
    if (!catalog::IsValidSku(l.sku)) return Status(Code::kInvalidArgument, at + " has a bad sku");
    bool signed_ok = e.type == EventType::kAdjustment;
    if (l.quantity == 0 || l.quantity > kStockDeltaMax || l.quantity < -kStockDeltaMax ||
        (!signed_ok && l.quantity < 0)) {
      return Status(Code::kInvalidArgument, at + " has a bad quantity for " + l.sku);
    }
  }
  return Status::Ok();
}

inventory::MovementReason ReasonOf(EventType type) {
  switch (type) {
    case EventType::kSale: return inventory::MovementReason::kSaleInStore;
    case EventType::kReturn: return inventory::MovementReason::kReturn;
    case EventType::kReceipt: return inventory::MovementReason::kReceipt;
    case EventType::kAdjustment: return inventory::MovementReason::kAdjustment;
  }
  return inventory::MovementReason::kAdjustment;
}

int64_t DeltaOf(EventType type, int64_t quantity) {
  return type == EventType::kSale ? -quantity : quantity;
}

// Applies one event's lines to the ledger; returns true when it caused a stock conflict.
bool ApplyEvent(SyncContext& ctx, const StoredEvent& stored) {
  std::optional<inventory::Location> location = ctx.inventory.FindLocation(stored.location_id);
  TANDEM_CHECK(location.has_value());
  std::string reference = "till " + stored.till_id + " event " + stored.event.id;
  bool conflict = false;
  for (const EventLine& line : stored.event.lines) {
    ctx.inventory.EnsureLevel(line.sku, stored.location_id, location->safety_stock_default);
    int64_t delta = DeltaOf(stored.event.type, line.quantity);
    inventory::Movement m{0, line.sku, stored.location_id, delta,
                          ReasonOf(stored.event.type), reference, ctx.now_ms};
    ctx.inventory.ForceMovement(m);
    if (delta < 0) {
      if (ResolveShortfall(ctx, line.sku, stored.location_id, reference)) conflict = true;
      WarnCartsIfSoldOut(ctx, line.sku);
    }
  }
  return conflict;
}

std::string Units(int64_t n, const std::string& sku) { return std::to_string(n) + " × " + sku; }

}  // namespace

int WarnCartsIfSoldOut(SyncContext& ctx, const std::string& sku) {
  inventory::Allocator allocator(ctx.inventory, ctx.now_ms);
  if (allocator.AvailabilityOf(sku).online > 0) return 0;
  int written = 0;
  for (int64_t cart_id : ctx.orders.OpenCartsWithSku(sku, kSoldOutCartsMax)) {
    std::optional<orders::Cart> cart = ctx.orders.FindCart(cart_id);
    if (!cart || !cart->customer_id) continue;
    int64_t wanted = 0, held = 0;
    for (const auto& l : cart->lines) {
      if (l.sku == sku) wanted = l.quantity;
    }
    for (const auto& h : ctx.inventory.HoldsOfCart(cart_id)) {
      if (h.sku == sku && h.expires_ms > ctx.now_ms) held += h.quantity;
    }
    std::string reference = "cart " + std::to_string(cart_id) + " " + sku;
    if (held >= wanted || ctx.notify.OutboxHas("cart_item_sold_out", reference)) continue;
    std::optional<customers::Account> customer = ctx.accounts.FindAccount(*cart->customer_id);
    if (!customer) continue;
    notify::OutboxMessage m;
    m.kind = "cart_item_sold_out";
    m.recipient = customer->email;
    m.subject = "An item in your cart has sold out";
    m.body = "Sorry: " + sku + " in your cart is no longer available. It will not be charged or "
             "sent; you can remove it or choose something similar before you check out.";
    m.reference = reference;
    m.created_ms = ctx.now_ms;
    ctx.notify.InsertOutbox(m);
    ++written;
  }
  return written;
}

std::string_view EventTypeName(EventType type) { return NameOf(kTypeNames, type); }
std::optional<EventType> ParseEventType(std::string_view name) {
  return ParseName(kTypeNames, name);
}

std::optional<Conflict> ResolveShortfall(SyncContext& ctx, const std::string& sku,
                                         int64_t location_id, const std::string& reference) {
  std::optional<inventory::StockLevel> level = ctx.inventory.Level(sku, location_id);
  if (!level) return std::nullopt;
  int64_t shortfall = level->reserved + level->allocated - std::max<int64_t>(0, level->on_hand);
  if (shortfall <= 0) return std::nullopt;

  Conflict conflict;
  conflict.sku = sku;
  conflict.location_id = location_id;
  conflict.shortfall = shortfall;
  conflict.reference = reference;
  conflict.created_ms = ctx.now_ms;
  conflict.id = ctx.sync.InsertConflict(conflict);

  inventory::Allocator allocator(ctx.inventory, ctx.now_ms);
  std::optional<inventory::Location> here = ctx.inventory.FindLocation(location_id);
  TANDEM_CHECK(here.has_value());
  // 1. Soft holds go first: those carts hold again elsewhere when they check out.
  conflict.holds_released = allocator.ReleaseHoldsAt(sku, location_id, shortfall);
  shortfall -= conflict.holds_released;

  // 2. Then the newest allocations move elsewhere, or are marked unfulfillable with a task
  //    (each holds at least one unit: `shortfall` of them are enough).
  for (const inventory::Allocation& a :
       ctx.inventory.OpenAllocationsAt(sku, location_id, std::max<int64_t>(shortfall, 0))) {
    if (shortfall <= 0) break;
    // Only the units the store is short of leave this allocation; the rest stays on the shelf.
    int64_t units = std::min(a.quantity, shortfall);
    std::optional<orders::Order> order = ctx.orders.FindOrder(a.order_id);
    TANDEM_CHECK(order.has_value());
    // A pick-up order is promised at this store: moving it would change what the customer chose.
    std::vector<inventory::Allocation> moved;
    if (order->fulfillment.method == orders::FulfillmentMethod::kDelivery) {
      moved = allocator.Reallocate(a, units);
    }
    int64_t moved_units = 0;
    for (const auto& m : moved) moved_units += m.quantity;
    if (moved_units > 0) {
      std::string to;
      for (const auto& m : moved) {
        std::optional<inventory::Location> there = ctx.inventory.FindLocation(m.location_id);
        if (!to.empty()) to += ", ";
        to += Units(m.quantity, sku) + " to " + (there ? there->name : "?");
      }
      ctx.orders.AppendTimeline(
          order->id, {ctx.now_ms, "system", std::string(orders::StatusName(order->status)),
                      std::string(orders::StatusName(order->status)),
                      "re-allocated " + Units(moved_units, sku) + " from " + here->name + ": " +
                          to + " (the store sold the units it held)"});
      conflict.units_reallocated += moved_units;
    }
    int64_t lost = units - moved_units;
    if (lost > 0) {
      // What is left of the allocation after the move (the allocation shrank by moved_units).
      inventory::Allocation rest = a;
      rest.quantity = a.quantity - moved_units;
      allocator.ReleaseAllocationPart(rest, lost);
      ctx.orders.AddUnfulfillable(a.line_id, lost);
      std::string what = Units(lost, sku);
      notify::ContactTask task;
      task.order_id = order->id;
      task.conflict_id = conflict.id;
      task.reason = "stock_conflict";
      task.detail = "Order " + order->number + ": " + what + " at " + here->name +
                    " was sold in store and no other location has it. Call " + order->name +
                    " (" + order->email + (order->phone.empty() ? "" : ", " + order->phone) +
                    ") to offer a replacement, a later delivery or a refund.";
      task.created_ms = ctx.now_ms;
      ctx.notify.InsertContactTask(task);
      notify::OutboxMessage notice;
      notice.kind = "order_problem";
      notice.recipient = order->email;
      notice.subject = "A problem with your order " + order->number;
      notice.body = "We are sorry: " + what +
                    " from your order is no longer in stock. Nothing has been cancelled. Our team "
                    "will contact you shortly to offer a replacement, a later delivery or a refund "
                    "of that item. Your order number is " + order->number + ".";
      notice.reference = order->number;
      notice.created_ms = ctx.now_ms;
      ctx.notify.InsertOutbox(notice);
      ctx.orders.AppendTimeline(
          order->id, {ctx.now_ms, "system", std::string(orders::StatusName(order->status)),
                      std::string(orders::StatusName(order->status)),
                      what + " cannot be fulfilled: sold in store at " + here->name +
                          ", no stock elsewhere; customer contact task opened"});
      conflict.units_unfulfillable += lost;
    }
    shortfall -= units;
  }
  conflict.resolved = true;
  ctx.sync.SaveConflict(conflict);
  return conflict;
}

Result<std::vector<EventResult>> UploadEvents(SyncContext& ctx, int64_t location_id,
                                              const std::string& till_id,
                                              const std::vector<TillEvent>& events) {
  if (till_id.empty() || till_id.size() > 64) {
    return Status(Code::kInvalidArgument, "till_id must be 1-64 bytes");
  }
  if (events.size() > static_cast<size_t>(kTillBatchEventsMax)) {
    return Status(Code::kTooManyLines, "a batch holds at most " +
                                           std::to_string(kTillBatchEventsMax) + " events");
  }
  for (size_t i = 0; i < events.size(); ++i) TANDEM_RETURN_IF_ERROR(ValidateEvent(events[i], i));
  if (!ctx.inventory.FindLocation(location_id)) {
    return Status(Code::kNotFound, "no location " + std::to_string(location_id));
  }

  std::vector<EventResult> results;
  std::vector<std::string> stored_ids;  // per result: the id its sale is stored under
  for (const TillEvent& e : events) {
    EventResult r{e.id, "", ""};
    stored_ids.push_back(e.id);
    std::string hash = ContentHash(till_id, e);
    std::optional<StoredEvent> known = ctx.sync.FindEvent(e.id);
    if (known) {
      bool same = known->location_id == location_id && known->till_id == till_id &&
                  known->content_hash == hash;
      r.status = same ? "duplicate" : "rejected";
      if (!same) r.detail = "this event id was used before with other content";
      results.push_back(r);
      continue;
    }
    if (std::optional<StoredEvent> same_seq = ctx.sync.FindEventBySeq(location_id, till_id, e.seq)) {
      // The same sale re-sent under a new id (a till that lost its id) is still the same sale.
      if (same_seq->content_hash == hash) {
        r.status = "duplicate";
        stored_ids.back() = same_seq->event.id;
      } else {
        r.status = "rejected";
        r.detail = "seq " + std::to_string(e.seq) + " of this till belongs to another event";
      }
      results.push_back(r);
      continue;
    }
    std::string unknown;
    for (const EventLine& l : e.lines) {
      if (!ctx.catalog.FindVariant(l.sku)) unknown = l.sku;
    }
    if (!unknown.empty()) {
      r.status = "rejected";
      r.detail = "unknown sku " + unknown;
      results.push_back(r);
      continue;
    }
    StoredEvent stored{e, location_id, till_id, hash, "pending", false};
    if (!ctx.sync.TryInsertEvent(stored, ctx.now_ms)) return ConcurrentUpload();
    r.status = "pending";
    results.push_back(r);
  }

  // Apply this till's pending events in seq order, as far as there is no gap.
  TillStatus till = ctx.sync.FindTill(location_id, till_id).value_or(TillStatus{till_id, 0, 0});
  const int64_t read_seq = till.last_applied_seq;
  std::map<std::string, bool> applied;  // event id -> caused a conflict
  for (;;) {
    std::vector<StoredEvent> pending = ctx.sync.PendingEvents(location_id, till_id, 100);
    bool progressed = false;
    for (const StoredEvent& p : pending) {
      if (p.event.seq != till.last_applied_seq + 1) break;
      bool conflict = ApplyEvent(ctx, p);
      if (!ctx.sync.TryMarkApplied(p.event.id, conflict, ctx.now_ms)) return ConcurrentUpload();
      applied[p.event.id] = conflict;
      till.last_applied_seq = p.event.seq;
      progressed = true;
    }
    if (!progressed || pending.size() < 100) break;
  }
  till.last_upload_ms = ctx.now_ms;
  if (!ctx.sync.TryAdvanceTill(location_id, read_seq, till)) return ConcurrentUpload();

  for (size_t i = 0; i < results.size(); ++i) {
    EventResult& r = results[i];
    auto it = applied.find(r.id);
    if (r.status == "pending" && it != applied.end()) {
      r.status = it->second ? "conflict" : "applied";
    } else if (r.status == "duplicate") {
      // A sale known before (under this id or another) that still waits for a gap to close.
      std::optional<StoredEvent> known = ctx.sync.FindEvent(stored_ids[i]);
      if (known && known->status == "pending") r.status = "pending";
    }
  }
  return results;
}

Result<CountReport> RecordCount(SyncContext& ctx, int64_t location_id,
                                const std::vector<CountLine>& lines, bool full,
                                const std::string& reference) {
  std::optional<inventory::Location> location = ctx.inventory.FindLocation(location_id);
  if (!location) return Status(Code::kNotFound, "no location " + std::to_string(location_id));
  if (lines.size() > static_cast<size_t>(kCountLinesMax)) {
    return Status(Code::kTooManyLines,
                  "a count holds at most " + std::to_string(kCountLinesMax) + " lines");
  }
  std::map<std::string, int64_t> counted;
  for (const CountLine& l : lines) {
    if (!catalog::IsValidSku(l.sku) || l.counted < 0 || l.counted > kStockDeltaMax) {
      return Status(Code::kInvalidArgument, "bad count line for " + l.sku.substr(0, 64));
    }
    if (!ctx.catalog.FindVariant(l.sku)) return Status(Code::kNotFound, "no product with sku " + l.sku);
    if (!counted.emplace(l.sku, l.counted).second) {
      return Status(Code::kInvalidArgument, "sku " + l.sku + " is counted twice");
    }
  }
  if (full) {
    std::string after;
    for (int page = 0; page < 1000; ++page) {
      std::vector<inventory::StockLevel> levels = ctx.inventory.LevelsAt(location_id, after, 500);
      for (const auto& l : levels) counted.emplace(l.sku, 0);
      if (levels.size() < 500) break;
      after = levels.back().sku;
    }
  }
  CountReport report;
  for (const auto& [sku, units] : counted) {
    ctx.inventory.EnsureLevel(sku, location_id, location->safety_stock_default);
    std::optional<inventory::StockLevel> level = ctx.inventory.Level(sku, location_id);
    TANDEM_CHECK(level.has_value());
    CountVariance v{sku, level->on_hand, units, units - level->on_hand};
    report.lines.push_back(v);
    if (v.variance == 0) continue;
    ctx.inventory.ForceMovement({0, sku, location_id, v.variance,
                                 inventory::MovementReason::kCountCorrection, reference,
                                 ctx.now_ms});
    if (v.variance < 0) {
      if (auto c = ResolveShortfall(ctx, sku, location_id, reference)) report.conflicts.push_back(*c);
      WarnCartsIfSoldOut(ctx, sku);
    }
  }
  return report;
}

bool IsStale(const inventory::Location& location, const std::vector<TillStatus>& tills,
             int64_t now_ms, int64_t stale_after_ms) {
  if (!location.sells_in_store) return false;
  int64_t last = 0;
  for (const auto& t : tills) last = std::max(last, t.last_upload_ms);
  return last == 0 || now_ms - last > stale_after_ms;
}

}  // namespace tandem::sync
