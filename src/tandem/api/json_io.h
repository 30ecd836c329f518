// JSON in and out: a strict field reader for request bodies and the mapping of domain values to
// the JSON the API returns. Only the api layer includes nlohmann/json.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tandem/api/http.h"
#include "tandem/base/money.h"
#include "tandem/base/result.h"
#include "tandem/catalog/catalog.h"
#include "tandem/customers/accounts.h"
#include "tandem/inventory/allocator.h"
#include "tandem/inventory/inventory.h"
#include "tandem/orders/order.h"
#include "tandem/orders/service.h"

namespace tandem::api {

using Json = nlohmann::json;

// The body as a JSON object: kMalformedJson when it does not parse, kInvalidArgument when it is
// not an object. An empty body is an empty object.
Result<Json> ParseBody(const Request& request);

// Reads typed fields from one JSON object; the first error wins and is kept in status().
class Fields {
 public:
  explicit Fields(const Json& object, std::string prefix = "");

  std::string Str(const char* name, size_t max_bytes, bool required = true);
  std::optional<std::string> OptStr(const char* name, size_t max_bytes);
  int64_t Int(const char* name, int64_t min, int64_t max);
  std::optional<int64_t> OptInt(const char* name, int64_t min, int64_t max);
  std::optional<double> OptReal(const char* name, double min, double max);
  bool Bool(const char* name, bool fallback);
  std::optional<bool> OptBool(const char* name);
  // The member if it is an object (nullptr when absent and not required).
  const Json* Object(const char* name, bool required);
  // The member if it is an array of at most `max_items` (kTooManyLines past that).
  const Json* Array(const char* name, bool required, size_t max_items);
  std::optional<Money> OptMoney(const char* name);

  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }
  void Fail(Code code, std::string message);
  std::string Path(const char* name) const { return prefix_ + name; }

 private:
  const Json* Member(const char* name, bool required);
  const Json& object_;
  std::string prefix_;
  Status status_;
};

// Parses an {"name","line1",...} address object.
Result<orders::Address> ReadAddress(const Json& object, const std::string& prefix);

Json MoneyJson(const Money& money);
Json ProductJson(const catalog::Product& product,
                 const std::map<std::string, inventory::Availability>& availability);
Json LocationJson(const inventory::Location& location);
Json LevelJson(const inventory::StockLevel& level);
Json MovementJson(const inventory::Movement& movement);
Json AccountJson(const customers::Account& account);
// The cart and order answers are written as text (JsonWriter): they are the flash sale's, built
// once per request. `token`: a new cart's token, shown once (empty: none).
std::string CartText(const orders::CartView& view, std::string_view token = {});
// The order as its owner sees it; staff also see who made each change.
// With `allocations` (the order's, from the inventory), each line says where its units are
// allocated ("allocated_at": location, units, and whether they left).
std::string OrderText(const orders::Order& order, bool for_staff,
                      const std::vector<inventory::Allocation>* allocations = nullptr);
// OrderText as a tree, for the lists of orders (built as trees by PageJson): not on the
// flash-sale path, and the order's shape stays written once.
Json OrderJson(const orders::Order& order, bool for_staff);
// The public tracking view: status and timeline, no personal data.
std::string TrackingText(const orders::Order& order);

// The text of a JSON document as answers carry it (invalid UTF-8 replaced).
std::string DumpJson(const Json& body);
// A JSON response with the given status.
Response JsonResponse(int status, const Json& body);
// The same with the JSON already written.
Response JsonTextResponse(int status, std::string text);

}  // namespace tandem::api
