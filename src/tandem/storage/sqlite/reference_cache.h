// What rarely changes and nearly every cart write reads: the locations, each SKU's variant with
// its product, and which SKUs belong to a sale event. Only the writer connection has one, so it
// is used by the writer thread alone.
//
// It is never stale:
// - SQLite's update hook drops it whenever this connection writes one of those tables;
// - the writer drops it after a rollback of anything that wrote one (see ForgetIfWrittenSince),
//   since a job may have read what it wrote before failing;
// - and at the start of every batch when another connection (another process: `tandem`
//   commands) committed (SqliteDatabase reads `PRAGMA data_version` and calls Clear).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tandem/catalog/catalog.h"
#include "tandem/inventory/inventory.h"
#include "tandem/storage/sqlite/connection.h"

namespace tandem::storage::sqlite {

class ReferenceCache {
 public:
  // Past this many SKUs the variant map starts over (a flash sale reads a few hundred).
  static constexpr size_t kVariantsMax = 100'000;

  explicit ReferenceCache(Connection& c) : c_(c) {
    sqlite3_update_hook(c_.raw(), &ReferenceCache::OnUpdate, this);
  }
  ~ReferenceCache() { sqlite3_update_hook(c_.raw(), nullptr, nullptr); }
  ReferenceCache(const ReferenceCache&) = delete;
  ReferenceCache& operator=(const ReferenceCache&) = delete;

  // Counts this connection's writes to the cached tables; see ForgetIfWrittenSince.
  uint64_t writes() const { return writes_; }
  // After a rollback: what was read since `mark` may have been rolled back.
  void ForgetIfWrittenSince(uint64_t mark) {
    if (writes_ != mark) Clear();
  }

  std::optional<std::vector<inventory::Location>> locations;
  std::unordered_map<std::string, std::optional<catalog::VariantWithProduct>> variants;
  // Every SKU named by any sale event, past or future; nullopt until read.
  std::optional<std::unordered_set<std::string>> event_skus;

  void Clear() {
    locations.reset();
    variants.clear();
    event_skus.reset();
  }

 private:
  static void OnUpdate(void* self, int, const char*, const char* table, sqlite3_int64) {
    // sale_event_skus (WITHOUT ROWID, so never reported here) only gains rows with their event.
    static constexpr const char* kCached[] = {"locations", "variants", "products", "sale_events"};
    for (const char* name : kCached) {
      if (std::strcmp(table, name) == 0) {
        auto* cache = static_cast<ReferenceCache*>(self);
        ++cache->writes_;
        cache->Clear();
        return;
      }
    }
  }

  Connection& c_;
  uint64_t writes_ = 0;
};

}  // namespace tandem::storage::sqlite
