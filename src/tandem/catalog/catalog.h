// The catalog: products, their variants (the sellable SKUs) and full-text search.
//
// Plain data types, validation and the CatalogStore seam the storage adapters implement. Functions
// here run inside a transaction handed to them by the caller; they hold no state of their own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/money.h"
#include "tandem/base/result.h"

namespace tandem::catalog {

struct Option {
  std::string name;   // e.g. "colour"
  std::string value;  // e.g. "navy"
  bool operator==(const Option&) const = default;
};

struct Variant {
  std::string sku;
  int64_t product_id = 0;
  Money price;
  std::vector<Option> options;
  std::string image_url;  // a link into the picture catalogue, never the picture itself
  bool active = true;
  std::string barcode;    // GTIN/EAN-13 (check digit valid), scanned when packing; may be empty
  int64_t weight_grams = 0;
  bool operator==(const Variant&) const = default;
};

// A variant and what a cart line shows of its product.
struct VariantWithProduct {
  Variant variant;
  std::string product_name;
  bool product_active = true;
  bool Sold() const { return variant.active && product_active; }
  bool operator==(const VariantWithProduct&) const = default;
};

struct Product {
  int64_t id = 0;
  std::string name;
  std::string description;
  std::string category;
  bool active = true;
  std::vector<Variant> variants;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

// Changes to a product; absent fields stay as they are. Variants are upserted by SKU.
struct ProductPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> category;
  std::optional<bool> active;
  std::vector<Variant> variants;
};

// Persistence of the catalog. Implemented by storage adapters; used inside one transaction.
class CatalogStore {
 public:
  virtual ~CatalogStore() = default;
  // Inserts the product and its variants and indexes it for search; returns the new id.
  virtual int64_t InsertProduct(const Product& product) = 0;
  // Rewrites the product row, upserts its variants and re-indexes it.
  virtual void SaveProduct(const Product& product) = 0;
  virtual std::optional<Product> FindProduct(int64_t id) = 0;
  virtual std::optional<Variant> FindVariant(const std::string& sku) = 0;
  // The variant with its product's name and active flag, in one read (for cart lines).
  virtual std::optional<VariantWithProduct> FindVariantWithProduct(const std::string& sku) = 0;
  // Ids of active products matching every one of `terms` as a word or a word's start (all
  // products when there is none), best first, paged by offset. Each engine builds its own
  // full-text query from the terms; a term is letters, digits and UTF-8 bytes only.
  virtual std::vector<int64_t> SearchProducts(const std::vector<std::string>& terms, int limit,
                                              int64_t offset) = 0;
};

// True for 1..64 characters of A-Z a-z 0-9 - _ . (a SKU is a path segment in the API)
bool IsValidSku(std::string_view sku);

// Checks names, SKUs, prices and options of a new product. kInvalidArgument names the field.
Status ValidateProduct(const Product& product);

// Creates a product; kConflict when one of its SKUs exists already.
Result<Product> CreateProduct(CatalogStore& store, Product product, int64_t now_ms);
// Applies a patch; kNotFound, kConflict (SKU of another product), kInvalidArgument.
Result<Product> UpdateProduct(CatalogStore& store, int64_t id, const ProductPatch& patch,
                              int64_t now_ms);

// The words of a shopper's free text, for SearchProducts: runs of letters, digits and UTF-8
// bytes; everything else separates them. At most kSearchTermsMax words of the text's first
// kSearchQueryBytesMax bytes; none when the text has nothing searchable.
std::vector<std::string> SearchTerms(std::string_view text);

}  // namespace tandem::catalog
