#include <charconv>

#include "tandem/api/errors.h"
#include "tandem/api/handlers.h"
#include "tandem/base/limits.h"
#include "tandem/catalog/barcode.h"
#include "tandem/inventory/allocator.h"

namespace tandem::api {
namespace {

using customers::Role;

Result<catalog::Variant> ReadVariant(const Json& j, const std::string& prefix) {
  if (!j.is_object()) return Status(Code::kInvalidArgument, prefix + " must be an object");
  Fields f(j, prefix + ".");
  catalog::Variant v;
  v.sku = f.Str("sku", 64);
  std::optional<Money> price = f.OptMoney("price");
  if (f.ok() && !price) f.Fail(Code::kInvalidArgument, prefix + ".price is required");
  if (price) v.price = *price;
  if (const Json* options = f.Object("options", false)) {
    if (options->size() > 10) {
      f.Fail(Code::kInvalidArgument, prefix + ".options has more than 10 entries");
    }
    for (const auto& [name, value] : options->items()) {
      if (!value.is_string()) {
        f.Fail(Code::kInvalidArgument, prefix + ".options." + name + " must be a string");
        break;
      }
      v.options.push_back({name, value.get<std::string>()});
    }
  }
  v.image_url = f.OptStr("image_url", 2000).value_or("");
  v.active = f.Bool("active", true);
  v.barcode = f.OptStr("barcode", 13).value_or("");
  v.weight_grams = f.OptInt("weight_grams", 0, kVariantWeightGramsMax).value_or(0);
  if (!f.ok()) return f.status();
  if (!v.barcode.empty() && !catalog::ValidEan13(v.barcode)) {
    return Status(Code::kInvalidArgument,
                  prefix + ".barcode must be 13 digits with a valid EAN-13 check digit");
  }
  return v;
}

// Reads the fields of a product body; `creating` makes name and variants required.
Result<catalog::ProductPatch> ReadProductBody(const Json& body, bool creating) {
  Fields f(body);
  catalog::ProductPatch p;
  p.name = creating ? std::optional(f.Str("name", kTextShortBytesMax))
                    : f.OptStr("name", kTextShortBytesMax);
  p.description = f.OptStr("description", kTextLongBytesMax);
  p.category = f.OptStr("category", kTextShortBytesMax);
  p.active = f.OptBool("active");
  const Json* variants = f.Array("variants", creating, kProductVariantsMax);
  if (!f.ok()) return f.status();
  if (variants != nullptr) {
    for (size_t i = 0; i < variants->size(); ++i) {
      Result<catalog::Variant> v = ReadVariant((*variants)[i], "variants[" + std::to_string(i) + "]");
      if (!v.ok()) return v.status();
      p.variants.push_back(std::move(v.value()));
    }
  }
  return p;
}

// The product with live availability per variant; `allocator` reads the transaction's stock.
Json ProductWithAvailability(inventory::Allocator& allocator, const catalog::Product& p) {
  std::map<std::string, inventory::Availability> availability;
  for (const auto& v : p.variants) availability[v.sku] = allocator.AvailabilityOf(v.sku);
  return ProductJson(p, availability);
}

Response Search(ApiContext& ctx, Request& req) {
  Result<int> limit = ParseLimit(req);
  if (!limit.ok()) return Problem(limit.status());
  const std::string& q = req.Query("q");
  if (q.size() > kSearchQueryBytesMax) {
    return Problem(Status(Code::kInvalidArgument, "q is longer than 200 bytes"));
  }
  int64_t offset = 0;
  const std::string& cursor = req.Query("cursor");
  if (!cursor.empty()) {
    auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), offset);
    if (ec != std::errc() || end != cursor.data() + cursor.size() || offset < 0 ||
        offset > kSearchOffsetMax) {
      return Problem(Status(Code::kInvalidArgument, "cursor is not valid"));
    }
  }
  std::vector<std::string> terms = catalog::SearchTerms(q);
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    std::vector<int64_t> ids = tx.catalog().SearchProducts(terms, *limit + 1, offset);
    bool more = ids.size() > static_cast<size_t>(*limit);
    if (more) ids.pop_back();
    Json items = Json::array();
    inventory::Allocator allocator(tx.inventory(), ctx.clock.NowMs());  // locations read once
    for (int64_t id : ids) {
      std::optional<catalog::Product> p = tx.catalog().FindProduct(id);
      if (p) items.push_back(ProductWithAvailability(allocator, *p));
    }
    return Json{{"items", items},
                {"next_cursor", more ? Json(std::to_string(offset + *limit)) : Json(nullptr)}};
  });
}

Response GetProduct(ApiContext& ctx, Request& req) {
  Result<int64_t> id = ParseId(req.params["id"]);
  if (!id.ok()) return Problem(id.status());
  Result<Principal> who = Identify(ctx, req);
  if (!who.ok()) return Problem(who.status());
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    std::optional<catalog::Product> p = tx.catalog().FindProduct(*id);
    if (!p || (!p->active && !who->staff())) {
      return Status(Code::kNotFound, "no product " + std::to_string(*id));
    }
    inventory::Allocator allocator(tx.inventory(), ctx.clock.NowMs());
    return ProductWithAvailability(allocator, *p);
  });
}

Response CreateProduct(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, {Role::kAdmin, Role::kMerchant});
  if (!who.ok()) return Problem(who.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Result<catalog::ProductPatch> patch = ReadProductBody(*body, true);
  if (!patch.ok()) return Problem(patch.status());
  catalog::Product product;
  product.name = *patch->name;
  product.description = patch->description.value_or("");
  product.category = patch->category.value_or("");
  product.active = patch->active.value_or(true);
  product.variants = patch->variants;
  return WriteJson(ctx, req, who->actor(), 201, [&](storage::Tx& tx) -> Result<Json> {
    Result<catalog::Product> created =
        catalog::CreateProduct(tx.catalog(), product, ctx.clock.NowMs());
    if (!created.ok()) return created.status();
    inventory::Allocator allocator(tx.inventory(), ctx.clock.NowMs());
    return ProductWithAvailability(allocator, *created);
  });
}

Response PatchProduct(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, {Role::kAdmin, Role::kMerchant});
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> id = ParseId(req.params["id"]);
  if (!id.ok()) return Problem(id.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Result<catalog::ProductPatch> patch = ReadProductBody(*body, false);
  if (!patch.ok()) return Problem(patch.status());
  return WriteJson(ctx, req, who->actor(), 200, [&](storage::Tx& tx) -> Result<Json> {
    Result<catalog::Product> updated =
        catalog::UpdateProduct(tx.catalog(), *id, *patch, ctx.clock.NowMs());
    if (!updated.ok()) return updated.status();
    inventory::Allocator allocator(tx.inventory(), ctx.clock.NowMs());
    return ProductWithAvailability(allocator, *updated);
  });
}

}  // namespace

void AddCatalogRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/api/v1/products", [&ctx](Request& r) { return Search(ctx, r); });
  router.Add("POST", "/api/v1/products", [&ctx](Request& r) { return CreateProduct(ctx, r); });
  router.Add("GET", "/api/v1/products/{id}", [&ctx](Request& r) { return GetProduct(ctx, r); });
  router.Add("PATCH", "/api/v1/products/{id}", [&ctx](Request& r) { return PatchProduct(ctx, r); });
}

}  // namespace tandem::api
