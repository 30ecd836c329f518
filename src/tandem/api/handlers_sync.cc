#include "tandem/api/errors.h"
#include "tandem/api/handlers.h"
#include "tandem/base/limits.h"
#include "tandem/sync/sync.h"

namespace tandem::api {
namespace {

using customers::Role;

sync::SyncContext MakeSyncContext(ApiContext& ctx, storage::Tx& tx) {
  return sync::SyncContext{tx.catalog(), tx.inventory(), tx.orders(), tx.notify(),
                           tx.sync(),    tx.accounts(),  ctx.clock.NowMs()};
}

// Admins and ops act for every store; a clerk (and so a till) only for their own.
Status RequireStoreStaff(const Principal& who, int64_t location_id) {
  TANDEM_RETURN_IF_ERROR(RequireRole(who, {Role::kAdmin, Role::kOps, Role::kClerk}));
  if (who.account->role == Role::kClerk && who.account->location_id != location_id) {
    return Status(Code::kForbidden, "a clerk acts only for their own store");
  }
  return Status::Ok();
}

Json ConflictJson(const sync::Conflict& c) {
  return Json{{"id", c.id},
              {"sku", c.sku},
              {"location_id", c.location_id},
              {"shortfall", c.shortfall},
              {"reference", c.reference},
              {"holds_released", c.holds_released},
              {"units_reallocated", c.units_reallocated},
              {"units_unfulfillable", c.units_unfulfillable},
              {"resolved", c.resolved},
              {"created_at", FormatTimestamp(c.created_ms)}};
}

Result<std::vector<sync::TillEvent>> ReadEvents(const Json& events) {
  std::vector<sync::TillEvent> out;
  for (size_t i = 0; i < events.size(); ++i) {
    std::string at = "events[" + std::to_string(i) + "]";
    if (!events[i].is_object()) return Status(Code::kInvalidArgument, at + " must be an object");
    Fields f(events[i], at + ".");
    sync::TillEvent e;
    e.id = f.Str("id", 100);
    e.seq = f.Int("seq", 1, INT64_MAX / 2);
    std::string type = f.Str("type", 20);
    std::string occurred = f.Str("occurred_at", 40);
    const Json* lines = f.Array("lines", true, kCartLinesMax);
    if (!f.ok()) return f.status();
    auto parsed = sync::ParseEventType(type);
    if (!parsed) {
      return Status(Code::kInvalidArgument,
                    at + ".type must be sale, return, receipt or adjustment");
    }
    e.type = *parsed;
    std::optional<int64_t> when = ParseTimestamp(occurred);
    if (!when) return Status(Code::kInvalidArgument, at + ".occurred_at must be RFC 3339 UTC");
    e.occurred_ms = *when;
    for (size_t j = 0; j < lines->size(); ++j) {
      std::string lat = at + ".lines[" + std::to_string(j) + "]";
      if (!(*lines)[j].is_object()) return Status(Code::kInvalidArgument, lat + " must be an object");
      Fields lf((*lines)[j], lat + ".");
      sync::EventLine l;
      l.sku = lf.Str("sku", 64);
      l.quantity = lf.Int("quantity", -kStockDeltaMax, kStockDeltaMax);
      if (!lf.ok()) return lf.status();
      e.lines.push_back(std::move(l));
    }
    out.push_back(std::move(e));
  }
  return out;
}

Response UploadEvents(ApiContext& ctx, Request& req) {
  Result<Principal> who = Identify(ctx, req);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> location = ParseId(req.params["id"]);
  if (!location.ok()) return Problem(location.status());
  Status allowed = RequireStoreStaff(*who, *location);
  if (!allowed.ok()) return Problem(allowed);
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  std::string till = f.Str("till_id", 64);
  const Json* events = f.Array("events", true, kTillBatchEventsMax);
  if (!f.ok()) return Problem(f.status());
  Result<std::vector<sync::TillEvent>> parsed = ReadEvents(*events);
  if (!parsed.ok()) return Problem(parsed.status());
  // Event ids make the upload idempotent by themselves: no Idempotency-Key scope needed.
  return WriteJson(ctx, req, "", 200, [&](storage::Tx& tx) -> Result<Json> {
    sync::SyncContext sctx = MakeSyncContext(ctx, tx);
    Result<std::vector<sync::EventResult>> results =
        sync::UploadEvents(sctx, *location, till, *parsed);
    if (!results.ok()) return results.status();
    Json items = Json::array();
    for (const auto& r : *results) {
      Json j{{"id", r.id}, {"status", r.status}};
      if (!r.detail.empty()) j["detail"] = r.detail;
      items.push_back(std::move(j));
    }
    return Json{{"results", items}};
  });
}

Response Snapshot(ApiContext& ctx, Request& req) {
  Result<Principal> who = Identify(ctx, req);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> location = ParseId(req.params["id"]);
  if (!location.ok()) return Problem(location.status());
  Status allowed = RequireStoreStaff(*who, *location);
  if (!allowed.ok()) return Problem(allowed);
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    std::optional<inventory::Location> l = tx.inventory().FindLocation(*location);
    if (!l) return Status(Code::kNotFound, "no location " + std::to_string(*location));
    Json levels = Json::array();
    std::string after;
    for (int page = 0; page < 100; ++page) {
      std::vector<inventory::StockLevel> batch = tx.inventory().LevelsAt(*location, after, 500);
      for (const auto& level : batch) levels.push_back(LevelJson(level));
      if (batch.size() < 500) break;
      after = batch.back().sku;
    }
    std::map<int64_t, Json> orders;
    for (const auto& a : tx.inventory().OpenAllocationsOfLocation(*location, kSnapshotOrdersMax)) {
      auto it = orders.find(a.order_id);
      if (it == orders.end()) {
        std::optional<orders::Order> o = tx.orders().FindOrder(a.order_id);
        TANDEM_CHECK(o.has_value());
        it = orders
                 .emplace(a.order_id,
                          Json{{"id", o->id},
                               {"number", o->number},
                               {"status", orders::StatusName(o->status)},
                               {"fulfillment_method", orders::FulfillmentName(o->fulfillment.method)},
                               {"customer_name", o->name},
                               {"lines", Json::array()}})
                 .first;
      }
      it->second["lines"].push_back({{"sku", a.sku}, {"quantity", a.quantity}});
    }
    Json to_fulfil = Json::array();
    for (auto& [id, o] : orders) to_fulfil.push_back(std::move(o));
    // The parcels and pick-ups the store serves: to pack, packed, waiting for their customer.
    Json shipments = Json::array();
    for (fulfillment::ShipmentStatus status :
         {fulfillment::ShipmentStatus::kOpen, fulfillment::ShipmentStatus::kPacked,
          fulfillment::ShipmentStatus::kReadyForPickup}) {
      for (const auto& s : tx.fulfillment().ShipmentsAt(*location, status, kSnapshotOrdersMax)) {
        std::optional<orders::Order> o = tx.orders().FindOrder(s.order_id);
        TANDEM_CHECK(o.has_value());
        shipments.push_back({{"id", s.id},
                             {"order_id", s.order_id},
                             {"order_number", o->number},
                             {"customer_name", o->name},
                             {"fulfillment_method",
                              orders::FulfillmentName(o->fulfillment.method)},
                             {"status", fulfillment::ShipmentStatusName(s.status)},
                             {"updated_at", FormatTimestamp(s.updated_ms)}});
      }
    }
    return Json{{"location", LocationJson(*l)},
                {"generated_at", FormatTimestamp(ctx.clock.NowMs())},
                {"levels", levels},
                {"orders", to_fulfil},
                {"shipments", shipments}};
  });
}

Response Count(ApiContext& ctx, Request& req) {
  Result<Principal> who = Identify(ctx, req);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> location = ParseId(req.params["id"]);
  if (!location.ok()) return Problem(location.status());
  Status allowed = RequireStoreStaff(*who, *location);
  if (!allowed.ok()) return Problem(allowed);
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  bool full = f.Bool("full", false);
  const Json* lines = f.Array("lines", true, kCountLinesMax);
  std::string reference = f.OptStr("reference", kTextShortBytesMax).value_or("");
  if (!f.ok()) return Problem(f.status());
  std::vector<sync::CountLine> counted;
  for (size_t i = 0; i < lines->size(); ++i) {
    std::string at = "lines[" + std::to_string(i) + "]";
    if (!(*lines)[i].is_object()) {
      return Problem(Status(Code::kInvalidArgument, at + " must be an object"));
    }
    Fields lf((*lines)[i], at + ".");
    sync::CountLine l;
    l.sku = lf.Str("sku", 64);
    l.counted = lf.Int("counted", 0, kStockDeltaMax);
    if (!lf.ok()) return Problem(lf.status());
    counted.push_back(std::move(l));
  }
  if (reference.empty()) reference = "count by " + who->actor();
  return WriteJson(ctx, req, who->actor(), 201, [&](storage::Tx& tx) -> Result<Json> {
    sync::SyncContext sctx = MakeSyncContext(ctx, tx);
    Result<sync::CountReport> report = sync::RecordCount(sctx, *location, counted, full, reference);
    if (!report.ok()) return report.status();
    Json out_lines = Json::array();
    int64_t total_variance = 0;
    for (const auto& v : report->lines) {
      out_lines.push_back({{"sku", v.sku},
                           {"expected", v.expected},
                           {"counted", v.counted},
                           {"variance", v.variance}});
      total_variance += v.variance;
    }
    Json conflicts = Json::array();
    for (const auto& c : report->conflicts) conflicts.push_back(ConflictJson(c));
    return Json{{"location_id", *location},
                {"full", full},
                {"lines", out_lines},
                {"total_variance", total_variance},
                {"conflicts", conflicts}};
  });
}

Response SyncStatus(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    int64_t now = ctx.clock.NowMs();
    Json items = Json::array();
    for (const auto& l : tx.inventory().Locations()) {
      std::vector<sync::TillStatus> tills = tx.sync().Tills(l.id);
      int64_t last = 0;
      Json till_items = Json::array();
      for (const auto& t : tills) {
        last = std::max(last, t.last_upload_ms);
        till_items.push_back({{"till_id", t.till_id},
                              {"last_seq", t.last_applied_seq},
                              {"last_upload_at", FormatTimestamp(t.last_upload_ms)}});
      }
      items.push_back(
          {{"location_id", l.id},
           {"name", l.name},
           {"sells_in_store", l.sells_in_store},
           {"last_upload_at", last ? Json(FormatTimestamp(last)) : Json(nullptr)},
           {"lag_seconds", last ? Json((now - last) / 1000) : Json(nullptr)},
           {"tills", till_items},
           {"events_applied", tx.sync().CountEvents(l.id, "applied")},
           {"events_pending", tx.sync().CountEvents(l.id, "pending")},
           {"conflicts", tx.sync().CountConflicts(l.id, false)},
           {"conflicts_open", tx.sync().CountConflicts(l.id, true)},
           {"stale", sync::IsStale(l, tills, now, ctx.options.stale_after_ms)}});
    }
    return Json{{"items", items}, {"generated_at", FormatTimestamp(now)}};
  });
}

Response ListConflicts(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  Result<Page> page = ParsePage(req);
  if (!page.ok()) return Problem(page.status());
  std::optional<int64_t> location;
  if (!req.Query("location_id").empty()) {
    Result<int64_t> id = ParseId(req.Query("location_id"));
    if (!id.ok()) return Problem(Status(Code::kInvalidArgument, "location_id is not an id"));
    location = *id;
  }
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    return PageJson(tx.sync().ListConflicts(location, page->before_id, page->limit), page->limit,
                    ConflictJson);
  });
}

Response ListContactTasks(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, {Role::kAdmin, Role::kMerchant, Role::kOps});
  if (!who.ok()) return Problem(who.status());
  Result<Page> page = ParsePage(req);
  if (!page.ok()) return Problem(page.status());
  std::string status = req.Query("status");
  if (!status.empty() && status != "open" && status != "done") {
    return Problem(Status(Code::kInvalidArgument, "status must be open or done"));
  }
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    return PageJson(tx.notify().ListContactTasks(status, page->before_id, page->limit),
                    page->limit, [](const notify::ContactTask& t) {
                      return Json{{"id", t.id},
                                  {"order_id", t.order_id},
                                  {"conflict_id", t.conflict_id ? Json(*t.conflict_id) : Json(nullptr)},
                                  {"reason", t.reason},
                                  {"detail", t.detail},
                                  {"status", t.status},
                                  {"created_at", FormatTimestamp(t.created_ms)}};
                    });
  });
}

Response ListOutbox(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, {Role::kAdmin, Role::kOps});
  if (!who.ok()) return Problem(who.status());
  Result<Page> page = ParsePage(req);
  if (!page.ok()) return Problem(page.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    return PageJson(tx.notify().ListOutbox(page->before_id, page->limit), page->limit,
                    [](const notify::OutboxMessage& m) {
                      return Json{{"id", m.id},
                                  {"kind", m.kind},
                                  {"recipient", m.recipient},
                                  {"subject", m.subject},
                                  {"body", m.body},
                                  {"reference", m.reference},
                                  {"status", m.status},
                                  {"created_at", FormatTimestamp(m.created_ms)}};
                    });
  });
}

Response PutSafetyStock(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, {Role::kAdmin, Role::kOps});
  if (!who.ok()) return Problem(who.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  std::string sku = f.Str("sku", 64);
  int64_t location = f.Int("location_id", 1, INT64_MAX);
  int64_t units = f.Int("safety_stock", 0, kStockDeltaMax);
  if (!f.ok()) return Problem(f.status());
  return WriteJson(ctx, req, who->actor(), 200, [&](storage::Tx& tx) -> Result<Json> {
    if (!tx.catalog().FindVariant(sku)) return Status(Code::kNotFound, "no product with sku " + sku);
    std::optional<inventory::Location> l = tx.inventory().FindLocation(location);
    if (!l) return Status(Code::kNotFound, "no location " + std::to_string(location));
    tx.inventory().EnsureLevel(sku, location, l->safety_stock_default);
    if (!tx.inventory().TrySetSafetyStock(sku, location, units)) {
      return Status(Code::kStockCommitted,
                    "on hand does not cover what carts and orders hold there plus that safety stock");
    }
    return LevelJson(*tx.inventory().Level(sku, location));
  });
}

}  // namespace

void AddSyncRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/api/v1/sync/locations/{id}/events",
             [&ctx](Request& r) { return UploadEvents(ctx, r); });
  router.Add("GET", "/api/v1/sync/locations/{id}/snapshot",
             [&ctx](Request& r) { return Snapshot(ctx, r); });
  router.Add("POST", "/api/v1/sync/locations/{id}/counts",
             [&ctx](Request& r) { return Count(ctx, r); });
  router.Add("GET", "/api/v1/sync/status", [&ctx](Request& r) { return SyncStatus(ctx, r); });
  router.Add("GET", "/api/v1/conflicts", [&ctx](Request& r) { return ListConflicts(ctx, r); });
  router.Add("GET", "/api/v1/contact-tasks",
             [&ctx](Request& r) { return ListContactTasks(ctx, r); });
  router.Add("GET", "/api/v1/outbox", [&ctx](Request& r) { return ListOutbox(ctx, r); });
  router.Add("PUT", "/api/v1/inventory/safety-stock",
             [&ctx](Request& r) { return PutSafetyStock(ctx, r); });
}

}  // namespace tandem::api
