#include "tandem/api/json_io.h"

#include <cmath>

#include "tandem/base/clock.h"
#include "tandem/base/limits.h"

namespace tandem::api {

Result<Json> ParseBody(const Request& request) {
  if (request.body.empty()) return Json::object();
  Json j = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(Code::kMalformedJson, "the body is not valid JSON");
  if (!j.is_object()) return Status(Code::kInvalidArgument, "the body must be a JSON object");
  return j;
}

Fields::Fields(const Json& object, std::string prefix)
    : object_(object), prefix_(std::move(prefix)) {}

void Fields::Fail(Code code, std::string message) {
  if (status_.ok()) status_ = Status(code, std::move(message));
}

const Json* Fields::Member(const char* name, bool required) {
  if (!status_.ok()) return nullptr;
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) {
    if (required) Fail(Code::kInvalidArgument, Path(name) + " is required");
    return nullptr;
  }
  return &*it;
}

std::string Fields::Str(const char* name, size_t max_bytes, bool required) {
  const Json* m = Member(name, required);
  if (m == nullptr) return {};
  if (!m->is_string()) {
    Fail(Code::kInvalidArgument, Path(name) + " must be a string");
    return {};
  }
  const std::string& s = m->get_ref<const std::string&>();
  if (s.size() > max_bytes) {
    Fail(Code::kInvalidArgument, Path(name) + " is longer than " + std::to_string(max_bytes) +
                                     " bytes");
    return {};
  }
  if (required && s.empty()) {
    Fail(Code::kInvalidArgument, Path(name) + " must not be empty");
    return {};
  }
  return s;
}

std::optional<std::string> Fields::OptStr(const char* name, size_t max_bytes) {
  if (Member(name, false) == nullptr) return std::nullopt;
  std::string s = Str(name, max_bytes, false);
  if (!ok()) return std::nullopt;
  return s;
}

int64_t Fields::Int(const char* name, int64_t min, int64_t max) {
  std::optional<int64_t> v = OptInt(name, min, max);
  if (!v) {
    if (ok()) Fail(Code::kInvalidArgument, Path(name) + " is required");
    return 0;
  }
  return *v;
}

std::optional<int64_t> Fields::OptInt(const char* name, int64_t min, int64_t max) {
  const Json* m = Member(name, false);
  if (m == nullptr) return std::nullopt;
  int64_t v = 0;
  if (m->is_number_integer()) {
    if (m->is_number_unsigned() && m->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      Fail(Code::kInvalidArgument, Path(name) + " is out of range");
      return std::nullopt;
    }
    v = m->get<int64_t>();
  } else {
    Fail(Code::kInvalidArgument, Path(name) + " must be an integer");
    return std::nullopt;
  }
  if (v < min || v > max) {
    Fail(Code::kInvalidArgument, Path(name) + " must be between " + std::to_string(min) +
                                     " and " + std::to_string(max));
    return std::nullopt;
  }
  return v;
}

std::optional<double> Fields::OptReal(const char* name, double min, double max) {
  const Json* m = Member(name, false);
  if (m == nullptr) return std::nullopt;
  if (!m->is_number()) {
    Fail(Code::kInvalidArgument, Path(name) + " must be a number");
    return std::nullopt;
  }
  double v = m->get<double>();
  if (!std::isfinite(v) || v < min || v > max) {
    Fail(Code::kInvalidArgument, Path(name) + " is out of range");
    return std::nullopt;
  }
  return v;
}

bool Fields::Bool(const char* name, bool fallback) { return OptBool(name).value_or(fallback); }

std::optional<bool> Fields::OptBool(const char* name) {
  const Json* m = Member(name, false);
  if (m == nullptr) return std::nullopt;
  if (!m->is_boolean()) {
    Fail(Code::kInvalidArgument, Path(name) + " must be true or false");
    return std::nullopt;
  }
  return m->get<bool>();
}

const Json* Fields::Object(const char* name, bool required) {
  const Json* m = Member(name, required);
  if (m == nullptr) return nullptr;
  if (!m->is_object()) {
    Fail(Code::kInvalidArgument, Path(name) + " must be an object");
    return nullptr;
  }
  return m;
}

const Json* Fields::Array(const char* name, bool required, size_t max_items) {
  const Json* m = Member(name, required);
  if (m == nullptr) return nullptr;
  if (!m->is_array()) {
    Fail(Code::kInvalidArgument, Path(name) + " must be an array");
    return nullptr;
  }
  if (m->size() > max_items) {
    Fail(Code::kTooManyLines, Path(name) + " holds more than " + std::to_string(max_items) +
                                  " entries");
    return nullptr;
  }
  return m;
}

std::optional<Money> Fields::OptMoney(const char* name) {
  const Json* m = Object(name, false);
  if (m == nullptr) return std::nullopt;
  Fields f(*m, Path(name) + ".");
  Money money;
  money.amount = f.Int("amount", 0, kPriceAmountMax);
  money.currency = f.Str("currency", 3);
  if (!f.ok()) {
    Fail(f.status().code(), f.status().message());
    return std::nullopt;
  }
  if (!IsCurrencyCode(money.currency)) {
    Fail(Code::kInvalidArgument, Path(name) + ".currency must be an ISO 4217 code");
    return std::nullopt;
  }
  return money;
}

Result<orders::Address> ReadAddress(const Json& object, const std::string& prefix) {
  Fields f(object, prefix);
  orders::Address a;
  a.name = f.Str("name", 200);
  a.line1 = f.Str("line1", 200);
  a.line2 = f.OptStr("line2", 200).value_or("");
  a.city = f.Str("city", 100);
  a.postcode = f.Str("postcode", 20);
  a.country = f.Str("country", 2);
  a.phone = f.OptStr("phone", 40).value_or("");
  if (!f.ok()) return f.status();
  TANDEM_RETURN_IF_ERROR(orders::ValidateAddress(a));
  return a;
}

Json MoneyJson(const Money& m) { return Json{{"amount", m.amount}, {"currency", m.currency}}; }

Json ProductJson(const catalog::Product& p,
                 const std::map<std::string, inventory::Availability>& availability) {
  Json variants = Json::array();
  for (const catalog::Variant& v : p.variants) {
    if (!v.active) continue;
    Json options = Json::object();
    for (const auto& o : v.options) options[o.name] = o.value;
    Json jv{{"sku", v.sku},
            {"price", MoneyJson(v.price)},
            {"options", options},
            {"image_url", v.image_url}};
    auto it = availability.find(v.sku);
    if (it != availability.end()) {
      jv["available_online"] = it->second.online;
      Json stores = Json::array();
      for (const auto& s : it->second.stores) {
        stores.push_back({{"location_id", s.location_id}, {"name", s.name},
                          {"available", s.available}});
      }
      jv["stores"] = stores;
    }
    variants.push_back(std::move(jv));
  }
  return Json{{"id", p.id},
              {"name", p.name},
              {"description", p.description},
              {"category", p.category},
              {"active", p.active},
              {"variants", variants}};
}

Json LocationJson(const inventory::Location& l) {
  return Json{{"id", l.id},
              {"code", l.code},
              {"name", l.name},
              {"kind", inventory::LocationKindName(l.kind)},
              {"address", l.address},
              {"latitude", l.latitude},
              {"longitude", l.longitude},
              {"ships_orders", l.ships_orders},
              {"pickup", l.pickup},
              {"sells_in_store", l.sells_in_store},
              {"safety_stock_default", l.safety_stock_default}};
}

Json LevelJson(const inventory::StockLevel& l) {
  return Json{{"sku", l.sku},
              {"location_id", l.location_id},
              {"on_hand", l.on_hand},
              {"reserved", l.reserved},
              {"allocated", l.allocated},
              {"safety_stock", l.safety_stock},
              // A store may sell into its safety stock; nothing below zero is promised (I1).
              {"available", std::max<int64_t>(0, l.Available())}};
}

Json MovementJson(const inventory::Movement& m) {
  return Json{{"id", m.id},
              {"sku", m.sku},
              {"location_id", m.location_id},
              {"delta", m.delta},
              {"reason", inventory::MovementReasonName(m.reason)},
              {"reference", m.reference},
              {"at", FormatTimestamp(m.at_ms)}};
}

Json AccountJson(const customers::Account& a) {
  return Json{{"id", a.id},
              {"email", a.email},
              {"name", a.name},
              {"phone", a.phone},
              {"role", customers::RoleName(a.role)},
              {"newsletter_opt_in", a.newsletter_opt_in},
              {"created_at", FormatTimestamp(a.created_ms)}};
}

Json AddressJson(const orders::Address& a) {
  return Json{{"name", a.name},         {"line1", a.line1},   {"line2", a.line2},
              {"city", a.city},         {"postcode", a.postcode},
              {"country", a.country},   {"phone", a.phone}};
}

Json FulfillmentJson(const orders::Fulfillment& f) {
  Json j{{"method", orders::FulfillmentName(f.method)}};
  if (f.method == orders::FulfillmentMethod::kDelivery) {
    j["service"] = f.service;
    j["address"] = f.address ? AddressJson(*f.address) : Json(nullptr);
  } else {
    j["location_id"] = f.location_id ? Json(*f.location_id) : Json(nullptr);
  }
  return j;
}

namespace {
Json TotalsJson(const orders::Totals& t) {
  return Json{{"subtotal", MoneyJson(t.subtotal)},
              {"discount", MoneyJson(t.discount)},
              {"shipping", MoneyJson(t.shipping)},
              {"total", MoneyJson(t.total)}};
}

Json TimelineJson(const std::vector<orders::TimelineEntry>& timeline, bool with_actor) {
  Json out = Json::array();
  for (const auto& e : timeline) {
    Json j{{"at", FormatTimestamp(e.at_ms)},
           {"from", e.from.empty() ? Json(nullptr) : Json(e.from)},
           {"to", e.to},
           {"note", e.note}};
    if (with_actor) j["actor"] = e.actor;
    out.push_back(std::move(j));
  }
  return out;
}
}  // namespace

Json CartJson(const orders::CartView& v) {
  Json items = Json::array();
  for (const auto& l : v.lines) {
    Json options = Json::object();
    for (const auto& o : l.variant.options) options[o.name] = o.value;
    items.push_back({{"sku", l.line.sku},
                     {"product_id", l.variant.product_id},
                     {"name", l.product_name},
                     {"options", options},
                     {"image_url", l.variant.image_url},
                     {"unit_price", MoneyJson(l.variant.price)},
                     {"quantity", l.line.quantity},
                     {"held", l.held},
                     {"warning", l.warning.empty() ? Json(nullptr) : Json(l.warning)},
                     {"line_total", MoneyJson(l.line_total)}});
  }
  return Json{{"id", v.cart.id},
              {"status", v.cart.open ? "open" : "checked_out"},
              {"items", items},
              {"totals", TotalsJson(v.totals)},
              {"hold_expires_at",
               v.hold_expires_ms ? Json(FormatTimestamp(*v.hold_expires_ms)) : Json(nullptr)},
              {"fulfillment", FulfillmentJson(v.cart.fulfillment)}};
}

Json OrderJson(const orders::Order& o, bool for_staff) {
  Json lines = Json::array();
  for (const auto& l : o.lines) {
    lines.push_back({{"id", l.id},
                     {"sku", l.sku},
                     {"product_id", l.product_id},
                     {"name", l.name},
                     {"options", l.options},
                     {"image_url", l.image_url},
                     {"unit_price", MoneyJson(l.unit_price)},
                     {"quantity", l.quantity},
                     {"line_total", MoneyJson(l.line_total)},
                     {"unfulfillable", l.unfulfillable}});
  }
  Json j{{"id", o.id},
         {"number", o.number},
         {"tracking_code", o.tracking_code},
         {"status", orders::StatusName(o.status)},
         {"channel", o.channel},
         {"email", o.email},
         {"name", o.name},
         {"phone", o.phone},
         {"customer_id", o.customer_id ? Json(*o.customer_id) : Json(nullptr)},
         {"payment_method", orders::PaymentMethodName(o.payment_method)},
         {"fulfillment", FulfillmentJson(o.fulfillment)},
         {"lines", lines},
         {"subtotal", MoneyJson(o.totals.subtotal)},
         {"discount", MoneyJson(o.totals.discount)},
         {"shipping", MoneyJson(o.totals.shipping)},
         {"total", MoneyJson(o.totals.total)},
         {"carrier", o.carrier},
         {"tracking_number", o.tracking_number},
         {"related_order_ids", o.related_order_ids},
         {"timeline", TimelineJson(o.timeline, for_staff)},
         {"created_at", FormatTimestamp(o.created_ms)},
         {"updated_at", FormatTimestamp(o.updated_ms)}};
  if (!o.access_token.empty()) j["access_token"] = o.access_token;
  return j;
}

Json TrackingJson(const orders::Order& o) {
  return Json{{"number", o.number},
              {"status", orders::StatusName(o.status)},
              {"fulfillment_method", orders::FulfillmentName(o.fulfillment.method)},
              {"carrier", o.carrier},
              {"tracking_number", o.tracking_number},
              {"timeline", TimelineJson(o.timeline, false)},
              {"created_at", FormatTimestamp(o.created_ms)}};
}

Response JsonResponse(int status, const Json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  return r;
}

}  // namespace tandem::api
