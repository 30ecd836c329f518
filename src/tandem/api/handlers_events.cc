#include "tandem/api/errors.h"
#include "tandem/api/handlers.h"
#include "tandem/base/limits.h"
#include "tandem/inventory/allocator.h"
#include "tandem/sync/sync.h"

namespace tandem::api {
namespace {

using customers::Role;

Json EventJson(const inventory::SaleEvent& e, int64_t now_ms) {
  return Json{{"id", e.id},
              {"name", e.name},
              {"starts_at", FormatTimestamp(e.starts_ms)},
              {"ends_at", FormatTimestamp(e.ends_ms)},
              {"per_customer_limit", e.per_customer_limit},
              {"active", e.ActiveAt(now_ms)}};
}

// Each store with a till, and whether it synced within the stale window.
Json StoreFreshness(ApiContext& ctx, storage::Tx& tx, int64_t now, bool* all_fresh) {
  Json stores = Json::array();
  *all_fresh = true;
  for (const auto& l : tx.inventory().Locations()) {
    if (!l.sells_in_store) continue;
    std::vector<sync::TillStatus> tills = tx.sync().Tills(l.id);
    int64_t last = 0;
    for (const auto& t : tills) last = std::max(last, t.last_upload_ms);
    bool stale = sync::IsStale(l, tills, now, ctx.options.stale_after_ms);
    *all_fresh = *all_fresh && !stale;
    stores.push_back({{"location_id", l.id},
                      {"name", l.name},
                      {"last_upload_at", last ? Json(FormatTimestamp(last)) : Json(nullptr)},
                      {"stale", stale}});
  }
  return stores;
}

Result<inventory::SaleEvent> FindEvent(storage::Tx& tx, int64_t id) {
  std::optional<inventory::SaleEvent> e = tx.inventory().FindSaleEvent(id);
  if (!e) return Status(Code::kNotFound, "no sale event " + std::to_string(id));
  return std::move(*e);
}

Response CreateEvent(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, {Role::kAdmin, Role::kMerchant});
  if (!who.ok()) return Problem(who.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  inventory::SaleEvent e;
  e.name = f.Str("name", kTextShortBytesMax);
  std::string starts = f.Str("starts_at", 40);
  std::string ends = f.Str("ends_at", 40);
  e.per_customer_limit = f.Int("per_customer_limit", 1, kLineQuantityMax);
  const Json* skus = f.Array("skus", true, kSaleEventSkusMax);
  if (!f.ok()) return Problem(f.status());
  std::optional<int64_t> s = ParseTimestamp(starts), t = ParseTimestamp(ends);
  if (!s || !t || *t <= *s) {
    return Problem(Status(Code::kInvalidArgument,
                          "starts_at and ends_at must be RFC 3339 UTC, ends_at after starts_at"));
  }
  e.starts_ms = *s;
  e.ends_ms = *t;
  std::vector<inventory::SaleEventSku> lines;
  for (size_t i = 0; i < skus->size(); ++i) {
    std::string at = "skus[" + std::to_string(i) + "]";
    if (!(*skus)[i].is_object()) return Problem(Status(Code::kInvalidArgument, at + " must be an object"));
    Fields lf((*skus)[i], at + ".");
    inventory::SaleEventSku l;
    l.sku = lf.Str("sku", 64);
    l.ring_fenced = lf.Int("ring_fenced", 1, kStockDeltaMax);
    if (!lf.ok()) return Problem(lf.status());
    for (const auto& other : lines) {
      if (other.sku == l.sku) return Problem(Status(Code::kInvalidArgument, at + ".sku repeats"));
    }
    lines.push_back(std::move(l));
  }
  if (lines.empty()) return Problem(Status(Code::kInvalidArgument, "skus must not be empty"));
  return WriteJson(ctx, req, who->actor(), 201, [&](storage::Tx& tx) -> Result<Json> {
    for (const auto& l : lines) {
      if (!tx.catalog().FindVariant(l.sku)) return Status(Code::kNotFound, "no product with sku " + l.sku);
      if (tx.inventory().EventOverlaps(l.sku, e.starts_ms, e.ends_ms)) {
        return Status(Code::kConflict, l.sku + " is in another sale event at that time");
      }
    }
    inventory::SaleEvent created = e;
    created.created_ms = ctx.clock.NowMs();
    created.id = tx.inventory().InsertSaleEvent(created, lines);
    Json j = EventJson(created, ctx.clock.NowMs());
    Json out_skus = Json::array();
    for (const auto& l : lines) out_skus.push_back({{"sku", l.sku}, {"ring_fenced", l.ring_fenced}});
    j["skus"] = out_skus;
    return j;
  });
}

Response ListEvents(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  Result<int> limit = ParseLimit(req);
  if (!limit.ok()) return Problem(limit.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    Json items = Json::array();
    for (const auto& e : tx.inventory().SaleEvents(*limit)) {
      items.push_back(EventJson(e, ctx.clock.NowMs()));
    }
    return Json{{"items", items}, {"next_cursor", nullptr}};
  });
}

// The live view: per SKU sold, held in carts, remaining of the ring-fenced quantity; conversion
// (units sold of the units shoppers took into carts); the stores' sync freshness.
Response GetEvent(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> id = ParseId(req.params["id"]);
  if (!id.ok()) return Problem(id.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    Result<inventory::SaleEvent> e = FindEvent(tx, *id);
    if (!e.ok()) return e.status();
    int64_t now = ctx.clock.NowMs();
    std::map<std::string, inventory::EventTotals> totals;
    for (const auto& t : tx.inventory().EventTotalsOf(*id)) totals[t.sku] = t;
    Json skus = Json::array();
    int64_t sold_all = 0, held_all = 0;
    for (const auto& s : tx.inventory().SaleEventSkus(*id)) {
      const inventory::EventTotals& t = totals[s.sku];
      sold_all += t.allocations_sum;
      held_all += t.holds_sum;
      skus.push_back({{"sku", s.sku},
                      {"ring_fenced", s.ring_fenced},
                      {"sold", t.allocations_sum},
                      {"held_in_carts", t.holds_sum},
                      {"remaining", s.ring_fenced - s.committed}});
    }
    bool all_fresh = true;
    Json j = EventJson(*e, now);
    j["skus"] = skus;
    j["conversion"] = sold_all + held_all == 0
                          ? Json(nullptr)
                          : Json(static_cast<double>(sold_all) / static_cast<double>(sold_all + held_all));
    j["stores"] = StoreFreshness(ctx, tx, now, &all_fresh);
    j["stores_fresh"] = all_fresh;
    return j;
  });
}

// Before the start: every store synced recently, and each ring-fenced quantity can be served by
// what is available online now.
Response Readiness(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, {Role::kAdmin, Role::kMerchant, Role::kOps});
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> id = ParseId(req.params["id"]);
  if (!id.ok()) return Problem(id.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    Result<inventory::SaleEvent> e = FindEvent(tx, *id);
    if (!e.ok()) return e.status();
    int64_t now = ctx.clock.NowMs();
    Json checks = Json::array();
    bool ready = true;
    bool all_fresh = true;
    Json stores = StoreFreshness(ctx, tx, now, &all_fresh);
    for (const auto& s : stores) {
      checks.push_back({{"check", "store_synced"},
                        {"subject", s["name"]},
                        {"ok", !s["stale"].get<bool>()},
                        {"detail", s["stale"].get<bool>() ? "no upload within the stale window"
                                                          : "synced recently"}});
    }
    ready = ready && all_fresh;
    inventory::Allocator allocator(tx.inventory(), now);
    for (const auto& s : tx.inventory().SaleEventSkus(*id)) {
      int64_t needed = s.ring_fenced - s.committed;
      int64_t online = allocator.AvailabilityOf(s.sku).online;
      bool ok = online >= needed;
      ready = ready && ok;
      checks.push_back({{"check", "quantity_in_place"},
                        {"subject", s.sku},
                        {"ok", ok},
                        {"detail", std::to_string(online) + " available online for " +
                                       std::to_string(needed) + " ring-fenced"}});
    }
    return Json{{"event_id", *id}, {"ready", ready}, {"checks", checks},
                {"starts_at", FormatTimestamp(e->starts_ms)}};
  });
}

}  // namespace

void AddEventRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/api/v1/sale-events", [&ctx](Request& r) { return CreateEvent(ctx, r); });
  router.Add("GET", "/api/v1/sale-events", [&ctx](Request& r) { return ListEvents(ctx, r); });
  router.Add("GET", "/api/v1/sale-events/{id}", [&ctx](Request& r) { return GetEvent(ctx, r); });
  router.Add("GET", "/api/v1/sale-events/{id}/readiness",
             [&ctx](Request& r) { return Readiness(ctx, r); });
}

}  // namespace tandem::api
