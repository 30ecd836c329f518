// `tandem demo`: a believable small retailer (one distribution centre, three stores in the Klang
// Valley and Penang, 240 products with variants, stock everywhere, one account per role).
// Deterministic, and idempotent: a marker setting records that the catalogue was loaded.
#include <array>
#include <cctype>

#include "tandem/app/app.h"
#include "tandem/base/crypto.h"
#include "tandem/catalog/catalog.h"
#include "tandem/inventory/adjust.h"

namespace tandem::app {
namespace {

constexpr const char* kDemoMarker = "demo_loaded_v1";

struct DemoLocation {
  const char* code;
  const char* name;
  inventory::LocationKind kind;
  const char* address;
  double latitude, longitude;
  bool ships, pickup, till;
  int64_t safety_stock;
};

constexpr std::array<DemoLocation, 4> kLocations{{
    {"DC-SHAH-ALAM", "Shah Alam Distribution Centre", inventory::LocationKind::kDistributionCentre,
     "Jalan Utas 15/7, 40200 Shah Alam, Selangor", 3.0733, 101.5185, true, false, false, 0},
    {"ST-KL-CENTRAL", "Store KL Central", inventory::LocationKind::kStore,
     "Jalan Stesen Sentral 5, 50470 Kuala Lumpur", 3.1340, 101.6866, true, true, true, 1},
    {"ST-PJ-SUNWAY", "Store Sunway Pyramid", inventory::LocationKind::kStore,
     "Jalan PJS 11/15, 47500 Petaling Jaya, Selangor", 3.0731, 101.6078, true, true, true, 1},
    {"ST-PG-GURNEY", "Store Gurney Penang", inventory::LocationKind::kStore,
     "Persiaran Gurney 170, 10250 George Town, Penang", 5.4378, 100.3096, true, true, true, 1},
}};

constexpr std::array<const char*, 12> kAdjectives{
    "Classic", "Everyday", "Batik", "Linen", "Urban", "Breeze",
    "Heritage", "Tropic", "Studio", "Monsoon", "Harbour", "Orchid"};
constexpr std::array<std::pair<const char*, const char*>, 20> kItems{{
    {"Tee", "Tops"},           {"Polo", "Tops"},          {"Shirt", "Tops"},
    {"Blouse", "Tops"},        {"Kurung", "Traditional"}, {"Baju Melayu", "Traditional"},
    {"Sarong", "Traditional"}, {"Chinos", "Bottoms"},     {"Jeans", "Bottoms"},
    {"Shorts", "Bottoms"},     {"Skirt", "Bottoms"},      {"Dress", "Dresses"},
    {"Jacket", "Outerwear"},   {"Hoodie", "Outerwear"},   {"Sneakers", "Shoes"},
    {"Sandals", "Shoes"},      {"Tote Bag", "Bags"},      {"Backpack", "Bags"},
    {"Cap", "Accessories"},    {"Scarf", "Accessories"}}};
constexpr std::array<const char*, 6> kColours{"black", "white", "navy", "sage", "terracotta",
                                              "mustard"};
constexpr std::array<const char*, 4> kSizes{"S", "M", "L", "XL"};

// A small deterministic generator, so every demo database is the same.
class Lcg {
 public:
  explicit Lcg(uint64_t seed) : state_(seed) {}
  uint64_t Next(uint64_t bound) {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state_ >> 33) % bound;
  }

 private:
  uint64_t state_;
};

std::string Slug(const std::string& text) {
  std::string out;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::toupper(u));
    } else if (!out.empty() && out.back() != '-') {
      out += '-';
    }
  }
  return out;
}

std::vector<DemoLogin> DemoAccounts() {
  return {{"admin@tandem.local", "tandem-admin", "admin"},
          {"merchant@tandem.local", "tandem-merchant", "merchant"},
          {"ops@tandem.local", "tandem-ops", "ops"},
          {"clerk@tandem.local", "tandem-clerk", "clerk"},
          {"shopper@tandem.local", "tandem-shopper", "customer"}};
}

Status LoadCatalogueAndStock(storage::Tx& tx, int64_t now) {
  std::vector<int64_t> location_ids;
  for (const DemoLocation& d : kLocations) {
    std::optional<inventory::Location> existing = tx.inventory().FindLocationByCode(d.code);
    if (existing) {
      location_ids.push_back(existing->id);
      continue;
    }
    inventory::Location l{0, d.code, d.name, d.kind, d.address, d.latitude, d.longitude,
                          d.ships, d.pickup, d.till, d.safety_stock};
    location_ids.push_back(tx.inventory().InsertLocation(l));
  }
  Lcg rng(20261212);
  for (const char* adjective : kAdjectives) {
    for (const auto& [item, category] : kItems) {
      catalog::Product p;
      p.name = std::string(adjective) + " " + item;
      p.category = category;
      p.description = "The " + p.name + " from our " + category +
                      " range. Designed in Malaysia, made to be worn every day.";
      int64_t price = 2990 + static_cast<int64_t>(rng.Next(40)) * 500;
      size_t colours = 1 + rng.Next(3);
      size_t sizes = (std::string(category) == "Bags" || std::string(category) == "Accessories")
                         ? 1
                         : 2 + rng.Next(3);
      size_t first_colour = rng.Next(kColours.size());
      for (size_t c = 0; c < colours; ++c) {
        const char* colour = kColours[(first_colour + c) % kColours.size()];
        for (size_t s = 0; s < sizes; ++s) {
          catalog::Variant v;
          v.sku = Slug(p.name) + "-" + Slug(colour) + (sizes > 1 ? "-" + std::string(kSizes[s]) : "");
          v.price = Money{price, "MYR"};
          v.options.push_back({"colour", colour});
          if (sizes > 1) v.options.push_back({"size", kSizes[s]});
          v.image_url = "/images/products/" + Slug(p.name) + "-" + Slug(colour) + ".jpg";
          p.variants.push_back(std::move(v));
        }
      }
      Result<catalog::Product> created = catalog::CreateProduct(tx.catalog(), p, now);
      if (!created.ok()) return created.status();
      for (const catalog::Variant& v : created->variants) {
        for (size_t i = 0; i < location_ids.size(); ++i) {
          int64_t units = i == 0 ? 20 + static_cast<int64_t>(rng.Next(80))
                                 : static_cast<int64_t>(rng.Next(12));
          if (units == 0) continue;
          inventory::AdjustmentRequest receipt{v.sku, location_ids[i], units,
                                               inventory::MovementReason::kReceipt, "demo stock"};
          Result<inventory::AdjustmentResult> r = inventory::Adjust(tx.inventory(), receipt, now);
          if (!r.ok()) return r.status();
        }
      }
    }
  }
  tx.PutSetting(kDemoMarker, "1");
  return Status::Ok();
}

}  // namespace

Result<std::vector<DemoLogin>> LoadDemo(storage::Database& db, const Clock& clock) {
  std::vector<DemoLogin> logins = DemoAccounts();
  for (const DemoLogin& login : logins) {
    customers::Registration r;
    r.email = login.email;
    r.password = login.password;
    r.name = "Demo " + login.role;
    r.role = *customers::ParseRole(login.role);
    Status s = AddUser(db, clock, r);
    if (!s.ok() && s.code() != Code::kEmailTaken) return s;
  }
  Status s = db.Write([&](storage::Tx& tx) -> Status {
    if (tx.GetSetting(kDemoMarker)) return Status::Ok();
    return LoadCatalogueAndStock(tx, clock.NowMs());
  });
  if (!s.ok()) return s;
  return logins;
}

}  // namespace tandem::app
