#include "tandem/api/errors.h"
#include "tandem/api/handlers.h"
#include "tandem/base/limits.h"
#include "tandem/inventory/adjust.h"
#include "tandem/inventory/transfer.h"

namespace tandem::api {
namespace {

using customers::Role;

Response ListLocations(ApiContext& ctx, Request&) {
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    Json items = Json::array();
    for (const auto& l : tx.inventory().Locations()) items.push_back(LocationJson(l));
    return Json{{"items", items}, {"next_cursor", nullptr}};
  });
}

Response CreateLocation(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, {Role::kAdmin});
  if (!who.ok()) return Problem(who.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  inventory::Location l;
  l.code = f.Str("code", 40);
  l.name = f.Str("name", kTextShortBytesMax);
  std::string kind = f.Str("kind", 40);
  l.address = f.OptStr("address", 1000).value_or("");
  l.latitude = f.OptReal("latitude", -90, 90).value_or(0);
  l.longitude = f.OptReal("longitude", -180, 180).value_or(0);
  l.ships_orders = f.Bool("ships_orders", false);
  l.pickup = f.Bool("pickup", false);
  l.sells_in_store = f.Bool("sells_in_store", false);
  l.safety_stock_default = f.OptInt("safety_stock_default", 0, kStockDeltaMax).value_or(0);
  l.daily_capacity = f.OptInt("daily_capacity", 0, kDailyCapacityMax).value_or(0);
  if (!f.ok()) return Problem(f.status());
  auto parsed_kind = inventory::ParseLocationKind(kind);
  if (!parsed_kind) {
    return Problem(Status(Code::kInvalidArgument,
                          "kind must be store, warehouse or distribution_centre"));
  }
  l.kind = *parsed_kind;
  return WriteJson(ctx, req, who->actor(), 201, [&](storage::Tx& tx) -> Result<Json> {
    if (tx.inventory().FindLocationByCode(l.code)) {
      return Status(Code::kConflict, "a location with code " + l.code + " exists already");
    }
    inventory::Location created = l;
    created.id = tx.inventory().InsertLocation(l);
    return LocationJson(created);
  });
}

Response GetInventory(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  const std::string& sku = req.Query("sku");
  std::optional<int64_t> location;
  if (!req.Query("location_id").empty()) {
    Result<int64_t> id = ParseId(req.Query("location_id"));
    if (!id.ok()) return Problem(Status(Code::kInvalidArgument, "location_id is not an id"));
    location = *id;
  }
  if (sku.empty() && !location) {
    return Problem(Status(Code::kInvalidArgument, "give sku, location_id or both"));
  }
  Result<int> limit = ParseLimit(req);
  if (!limit.ok()) return Problem(limit.status());
  const std::string& cursor = req.Query("cursor");
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    Json items = Json::array();
    Json next = nullptr;
    if (!sku.empty()) {
      for (const auto& l : tx.inventory().Levels(sku)) {
        if (!location || l.location_id == *location) items.push_back(LevelJson(l));
      }
    } else {
      std::vector<inventory::StockLevel> levels =
          tx.inventory().LevelsAt(*location, cursor, *limit);
      for (const auto& l : levels) items.push_back(LevelJson(l));
      if (levels.size() == static_cast<size_t>(*limit)) next = levels.back().sku;
    }
    return Json{{"items", items}, {"next_cursor", next}};
  });
}

Response GetMovements(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  const std::string& sku = req.Query("sku");
  Result<int64_t> location = ParseId(req.Query("location_id"));
  if (sku.empty() || !location.ok()) {
    return Problem(Status(Code::kInvalidArgument, "sku and location_id are required"));
  }
  Result<Page> page = ParsePage(req);
  if (!page.ok()) return Problem(page.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    return PageJson(tx.inventory().MovementsOf(sku, *location, page->before_id, page->limit),
                    page->limit, MovementJson);
  });
}

Response CreateAdjustment(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, {Role::kAdmin, Role::kOps, Role::kClerk});
  if (!who.ok()) return Problem(who.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  inventory::AdjustmentRequest a;
  a.sku = f.Str("sku", 64);
  a.location_id = f.Int("location_id", 1, INT64_MAX);
  a.delta = f.Int("delta", -kStockDeltaMax, kStockDeltaMax);
  std::string reason = f.Str("reason", 40);
  a.note = f.OptStr("note", kTextShortBytesMax).value_or("");
  if (!f.ok()) return Problem(f.status());
  auto parsed = inventory::ParseMovementReason(reason);
  if (!parsed) return Problem(Status(Code::kInvalidArgument, "reason is not a known reason"));
  a.reason = *parsed;
  if (a.note.empty()) a.note = who->actor();
  return WriteJson(ctx, req, who->actor(), 201, [&](storage::Tx& tx) -> Result<Json> {
    if (!tx.catalog().FindVariant(a.sku)) {
      return Status(Code::kNotFound, "no product with sku " + a.sku);
    }
    Result<inventory::AdjustmentResult> r = inventory::Adjust(tx.inventory(), a, ctx.clock.NowMs());
    if (!r.ok()) return r.status();
    return Json{{"movement", MovementJson(r->movement)}, {"level", LevelJson(r->level)}};
  });
}

Json TransferJson(const inventory::Transfer& t) {
  return Json{{"id", t.id},
              {"sku", t.sku},
              {"from_location_id", t.from_location_id},
              {"to_location_id", t.to_location_id},
              {"quantity", t.quantity},
              {"status", t.status},
              {"note", t.note},
              {"created_at", FormatTimestamp(t.created_ms)},
              {"received_at", t.received_ms ? Json(FormatTimestamp(t.received_ms)) : Json(nullptr)}};
}

Response CreateTransfer(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, {Role::kAdmin, Role::kOps});
  if (!who.ok()) return Problem(who.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  inventory::Transfer t;
  t.sku = f.Str("sku", 64);
  t.from_location_id = f.Int("from_location_id", 1, INT64_MAX);
  t.to_location_id = f.Int("to_location_id", 1, INT64_MAX);
  t.quantity = f.Int("quantity", 1, kStockDeltaMax);
  t.note = f.OptStr("note", kTextShortBytesMax).value_or("");
  if (!f.ok()) return Problem(f.status());
  return WriteJson(ctx, req, who->actor(), 201, [&](storage::Tx& tx) -> Result<Json> {
    if (!tx.catalog().FindVariant(t.sku)) return Status(Code::kNotFound, "no product with sku " + t.sku);
    Result<inventory::Transfer> started = inventory::StartTransfer(tx.inventory(), t, ctx.clock.NowMs());
    if (!started.ok()) return started.status();
    return TransferJson(*started);
  });
}

Response ReceiveTransfer(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, {Role::kAdmin, Role::kOps, Role::kClerk});
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> id = ParseId(req.params["id"]);
  if (!id.ok()) return Problem(id.status());
  return WriteJson(ctx, req, who->actor(), 200, [&](storage::Tx& tx) -> Result<Json> {
    std::optional<inventory::Transfer> t = tx.inventory().FindTransfer(*id);
    if (!t) return Status(Code::kNotFound, "no transfer " + std::to_string(*id));
    if (who->account->role == Role::kClerk && who->account->location_id != t->to_location_id) {
      return Status(Code::kForbidden, "a clerk receives only at their own store");
    }
    Result<inventory::Transfer> received =
        inventory::ReceiveTransfer(tx.inventory(), *id, ctx.clock.NowMs());
    if (!received.ok()) return received.status();
    return TransferJson(*received);
  });
}

Response ListTransfers(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  Result<Page> page = ParsePage(req);
  if (!page.ok()) return Problem(page.status());
  std::string status = req.Query("status");
  if (!status.empty() && status != "in_transit" && status != "received") {
    return Problem(Status(Code::kInvalidArgument, "status must be in_transit or received"));
  }
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    return PageJson(tx.inventory().Transfers(status, page->before_id, page->limit), page->limit,
                    TransferJson);
  });
}

}  // namespace

void AddInventoryRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/api/v1/transfers", [&ctx](Request& r) { return CreateTransfer(ctx, r); });
  router.Add("GET", "/api/v1/transfers", [&ctx](Request& r) { return ListTransfers(ctx, r); });
  router.Add("POST", "/api/v1/transfers/{id}/receive",
             [&ctx](Request& r) { return ReceiveTransfer(ctx, r); });
  router.Add("GET", "/api/v1/locations", [&ctx](Request& r) { return ListLocations(ctx, r); });
  router.Add("POST", "/api/v1/locations", [&ctx](Request& r) { return CreateLocation(ctx, r); });
  router.Add("GET", "/api/v1/inventory", [&ctx](Request& r) { return GetInventory(ctx, r); });
  router.Add("GET", "/api/v1/inventory/movements",
             [&ctx](Request& r) { return GetMovements(ctx, r); });
  router.Add("POST", "/api/v1/inventory/adjustments",
             [&ctx](Request& r) { return CreateAdjustment(ctx, r); });
}

}  // namespace tandem::api
