#include "tandem/api/json_io.h"

#include <cmath>

#include "tandem/base/clock.h"
#include "tandem/base/json_writer.h"
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
            {"image_url", v.image_url},
            {"barcode", v.barcode},
            {"weight_grams", v.weight_grams}};
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
              {"safety_stock_default", l.safety_stock_default},
              {"daily_capacity", l.daily_capacity}};
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

namespace {

void WriteMoney(JsonWriter& w, std::string_view key, const Money& m) {
  w.Key(key).BeginObject();
  w.Key("amount").Int(m.amount);
  w.Key("currency").String(m.currency);
  w.EndObject();
}

void WriteAddress(JsonWriter& w, const orders::Address& a) {
  w.BeginObject();
  w.Key("name").String(a.name);
  w.Key("line1").String(a.line1);
  w.Key("line2").String(a.line2);
  w.Key("city").String(a.city);
  w.Key("postcode").String(a.postcode);
  w.Key("country").String(a.country);
  w.Key("phone").String(a.phone);
  w.EndObject();
}

void WriteOptionalInt(JsonWriter& w, std::string_view key, std::optional<int64_t> value) {
  w.Key(key);
  if (value) {
    w.Int(*value);
  } else {
    w.Null();
  }
}

// The four amounts, as members of the object being written.
void WriteTotals(JsonWriter& w, const orders::Totals& t) {
  WriteMoney(w, "subtotal", t.subtotal);
  WriteMoney(w, "discount", t.discount);
  WriteMoney(w, "shipping", t.shipping);
  WriteMoney(w, "total", t.total);
}

void WriteFulfillment(JsonWriter& w, const orders::Fulfillment& f) {
  w.Key("fulfillment").BeginObject();
  w.Key("method").String(orders::FulfillmentName(f.method));
  if (f.method == orders::FulfillmentMethod::kDelivery) {
    w.Key("service").String(f.service);
    w.Key("address");
    if (f.address) {
      WriteAddress(w, *f.address);
    } else {
      w.Null();
    }
  } else {
    WriteOptionalInt(w, "location_id", f.location_id);
  }
  w.EndObject();
}

void WriteOptionalString(JsonWriter& w, std::string_view key, std::string_view value) {
  w.Key(key);
  if (value.empty()) {
    w.Null();
  } else {
    w.String(value);
  }
}

// Staff see every entry with who made it and its internal note. Everyone else (the customer, the
// public tracking page) sees the moves between statuses and what was written for them: never an
// internal note, a person's name or a store's code.
void WriteTimeline(JsonWriter& w, const std::vector<orders::TimelineEntry>& timeline,
                   bool for_staff) {
  w.Key("timeline").BeginArray();
  for (const auto& e : timeline) {
    if (!for_staff && e.to.empty() && e.public_note.empty()) continue;
    w.BeginObject();
    w.Key("at").String(FormatTimestamp(e.at_ms));
    if (for_staff) w.Key("actor").String(e.actor);
    WriteOptionalString(w, "from", e.from);
    WriteOptionalString(w, "to", e.to);
    if (for_staff) w.Key("note").String(e.note);
    w.Key("message").String(e.public_note);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string CartText(const orders::CartView& v, std::string_view token) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").Int(v.cart.id);
  if (!token.empty()) w.Key("token").String(token);
  w.Key("status").String(v.cart.open ? "open" : "checked_out");
  w.Key("items").BeginArray();
  for (const auto& l : v.lines) {
    w.BeginObject();
    w.Key("sku").String(l.line.sku);
    w.Key("product_id").Int(l.variant.product_id);
    w.Key("name").String(l.product_name);
    w.Key("options").BeginObject();
    for (const auto& o : l.variant.options) w.Key(o.name).String(o.value);
    w.EndObject();
    w.Key("image_url").String(l.variant.image_url);
    WriteMoney(w, "unit_price", l.variant.price);
    w.Key("quantity").Int(l.line.quantity);
    w.Key("held").Int(l.held);
    WriteOptionalString(w, "warning", l.warning);
    WriteMoney(w, "line_total", l.line_total);
    w.EndObject();
  }
  w.EndArray();
  w.Key("totals").BeginObject();
  WriteTotals(w, v.totals);
  w.EndObject();
  w.Key("hold_expires_at");
  if (v.hold_expires_ms) {
    w.String(FormatTimestamp(*v.hold_expires_ms));
  } else {
    w.Null();
  }
  WriteFulfillment(w, v.cart.fulfillment);
  w.EndObject();
  return w.Take();
}

std::string OrderText(const orders::Order& o, bool for_staff,
                      const std::vector<inventory::Allocation>* allocations) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").Int(o.id);
  w.Key("number").String(o.number);
  w.Key("tracking_code").String(o.tracking_code);
  if (!o.access_token.empty()) w.Key("access_token").String(o.access_token);
  w.Key("status").String(orders::StatusName(o.status));
  w.Key("channel").String(o.channel);
  w.Key("email").String(o.email);
  w.Key("name").String(o.name);
  w.Key("phone").String(o.phone);
  WriteOptionalInt(w, "customer_id", o.customer_id);
  w.Key("payment_method").String(orders::PaymentMethodName(o.payment_method));
  WriteFulfillment(w, o.fulfillment);
  w.Key("lines").BeginArray();
  for (const auto& l : o.lines) {
    w.BeginObject();
    w.Key("id").Int(l.id);
    w.Key("sku").String(l.sku);
    w.Key("product_id").Int(l.product_id);
    w.Key("name").String(l.name);
    w.Key("options").String(l.options);
    w.Key("image_url").String(l.image_url);
    WriteMoney(w, "unit_price", l.unit_price);
    w.Key("quantity").Int(l.quantity);
    WriteMoney(w, "line_total", l.line_total);
    w.Key("unfulfillable").Int(l.unfulfillable);
    if (allocations != nullptr) {
      w.Key("allocated_at").BeginArray();
      for (const inventory::Allocation& a : *allocations) {
        if (a.line_id != l.id || (!a.open && !a.shipped)) continue;
        w.BeginObject();
        w.Key("location_id").Int(a.location_id);
        w.Key("quantity").Int(a.quantity);
        w.Key("shipped").Bool(a.shipped);
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndArray();
  WriteTotals(w, o.totals);
  w.Key("carrier").String(o.carrier);
  w.Key("tracking_number").String(o.tracking_number);
  w.Key("related_order_ids").BeginArray();
  for (int64_t id : o.related_order_ids) w.Int(id);
  w.EndArray();
  WriteTimeline(w, o.timeline, for_staff);
  w.Key("created_at").String(FormatTimestamp(o.created_ms));
  w.Key("updated_at").String(FormatTimestamp(o.updated_ms));
  w.EndObject();
  return w.Take();
}

Json OrderJson(const orders::Order& o, bool for_staff) {
  return Json::parse(OrderText(o, for_staff));
}

std::string TrackingText(const orders::Order& o) {
  JsonWriter w;
  w.BeginObject();
  w.Key("number").String(o.number);
  w.Key("status").String(orders::StatusName(o.status));
  w.Key("fulfillment_method").String(orders::FulfillmentName(o.fulfillment.method));
  w.Key("carrier").String(o.carrier);
  w.Key("tracking_number").String(o.tracking_number);
  WriteTimeline(w, o.timeline, false);
  w.Key("created_at").String(FormatTimestamp(o.created_ms));
  w.EndObject();
  return w.Take();
}

std::string DumpJson(const Json& body) {
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Response JsonTextResponse(int status, std::string text) {
  Response r;
  r.status = status;
  r.body = std::move(text);
  return r;
}

Response JsonResponse(int status, const Json& body) {
  return JsonTextResponse(status, DumpJson(body));
}

}  // namespace tandem::api
