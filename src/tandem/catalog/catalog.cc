#include "tandem/catalog/catalog.h"

#include <cctype>
#include <set>

#include "tandem/base/limits.h"

namespace tandem::catalog {
namespace {

Status Invalid(std::string message) { return Status(Code::kInvalidArgument, std::move(message)); }

Status ValidateVariant(const Variant& v, size_t index) {
  std::string at = "variants[" + std::to_string(index) + "]";
  if (!IsValidSku(v.sku)) return Invalid(at + ".sku must be 1-64 characters of A-Z a-z 0-9 - _ .");
  if (v.price.amount <= 0 || v.price.amount > kPriceAmountMax) {
    return Invalid(at + ".price.amount must be between 1 and " + std::to_string(kPriceAmountMax));
  }
  if (!IsCurrencyCode(v.price.currency)) return Invalid(at + ".price.currency must be ISO 4217");
  if (v.options.size() > 10) return Invalid(at + ".options has more than 10 entries");
  for (const Option& o : v.options) {
    if (o.name.empty() || o.name.size() > 50 || o.value.size() > kTextShortBytesMax) {
      return Invalid(at + ".options entries need a name of 1-50 and a value of at most 200 bytes");
    }
  }
  if (v.image_url.size() > 2000) return Invalid(at + ".image_url is longer than 2000 bytes");
  if (!v.image_url.empty() && v.image_url.rfind("https://", 0) != 0 &&
      v.image_url.rfind("http://", 0) != 0 && v.image_url.rfind("/", 0) != 0) {
    return Invalid(at + ".image_url must be an http(s) link or a path");
  }
  return Status::Ok();
}

}  // namespace

bool IsValidSku(std::string_view sku) {
  if (sku.empty() || sku.size() > 64) return false;
  for (char c : sku) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

Status ValidateProduct(const Product& product) {
  if (product.name.empty() || product.name.size() > kTextShortBytesMax) {
    return Invalid("name must be 1-200 bytes");
  }
  if (product.description.size() > kTextLongBytesMax) return Invalid("description is too long");
  if (product.category.size() > kTextShortBytesMax) return Invalid("category is too long");
  if (product.variants.empty()) return Invalid("variants must hold at least one variant");
  if (product.variants.size() > static_cast<size_t>(kProductVariantsMax)) {
    return Invalid("variants holds more than " + std::to_string(kProductVariantsMax));
  }
  std::set<std::string> skus;
  for (size_t i = 0; i < product.variants.size(); ++i) {
    TANDEM_RETURN_IF_ERROR(ValidateVariant(product.variants[i], i));
    if (!skus.insert(product.variants[i].sku).second) {
      return Invalid("variants[" + std::to_string(i) + "].sku repeats " + product.variants[i].sku);
    }
  }
  return Status::Ok();
}

Result<Product> CreateProduct(CatalogStore& store, Product product, int64_t now_ms) {
  TANDEM_RETURN_IF_ERROR(ValidateProduct(product));
  for (const Variant& v : product.variants) {
    if (store.FindVariant(v.sku)) return Status(Code::kConflict, "sku " + v.sku + " exists already");
  }
  product.created_ms = product.updated_ms = now_ms;
  product.id = store.InsertProduct(product);
  for (Variant& v : product.variants) v.product_id = product.id;
  return product;
}

Result<Product> UpdateProduct(CatalogStore& store, int64_t id, const ProductPatch& patch,
                              int64_t now_ms) {
  std::optional<Product> found = store.FindProduct(id);
  if (!found) return Status(Code::kNotFound, "no product " + std::to_string(id));
  Product product = std::move(*found);
  if (patch.name) product.name = *patch.name;
  if (patch.description) product.description = *patch.description;
  if (patch.category) product.category = *patch.category;
  if (patch.active) product.active = *patch.active;
  for (const Variant& v : patch.variants) {
    std::optional<Variant> existing = store.FindVariant(v.sku);
    if (existing && existing->product_id != id) {
      return Status(Code::kConflict, "sku " + v.sku + " belongs to another product");
    }
    bool replaced = false;
    for (Variant& mine : product.variants) {
      if (mine.sku == v.sku) {
        mine = v;
        replaced = true;
      }
    }
    if (!replaced) product.variants.push_back(v);
  }
  for (Variant& v : product.variants) v.product_id = id;
  TANDEM_RETURN_IF_ERROR(ValidateProduct(product));
  product.updated_ms = now_ms;
  store.SaveProduct(product);
  return product;
}

std::vector<std::string> SearchTerms(std::string_view text) {
  if (text.size() > kSearchQueryBytesMax) text = text.substr(0, kSearchQueryBytesMax);
  std::vector<std::string> terms;
  std::string word;
  auto flush = [&] {
    if (!word.empty() && terms.size() < static_cast<size_t>(kSearchTermsMax)) {
      terms.push_back(std::move(word));
    }
    word.clear();
  };
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    // Letters, digits and any UTF-8 byte form words; everything else separates them.
    if (std::isalnum(u) || u >= 0x80) {
      word += c;
    } else {
      flush();
    }
  }
  flush();
  return terms;
}

}  // namespace tandem::catalog
