#include "tandem/storage/sqlite/page_cache.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <new>

namespace tandem::storage::sqlite {
namespace {

sqlite3_pcache_methods2 real{};  // SQLite's own page cache, set once before SQLite initialises

std::atomic<uint64_t> truncates_asked{0};
std::atomic<uint64_t> truncates_passed{0};
std::atomic<uint64_t> parked_count{0};

// One connection's cache. SQLite calls a cache from one thread at a time.
struct Cache {
  sqlite3_pcache* inner = nullptr;
  // Every page the cache may hold has a number <= bound, or one listed in `parked`.
  unsigned bound = 0;
  // Numbers above `bound` that pages were moved to and not yet moved away from (a swap in a
  // b-tree rebalance parks one page for a moment). When full, `bound` is raised instead.
  std::array<unsigned, 8> parked{};
  size_t parked_size = 0;

  bool MayHoldFrom(unsigned limit) const {
    return bound >= limit ||
           std::any_of(parked.begin(), parked.begin() + parked_size,
                       [limit](unsigned key) { return key >= limit; });
  }
  void Park(unsigned key) {
    if (parked_size == parked.size()) {
      bound = std::max(bound, key);
    } else {
      parked[parked_size++] = key;
    }
  }
  void Unpark(unsigned key) {
    auto end = parked.begin() + parked_size;
    auto it = std::find(parked.begin(), end, key);
    if (it == end) return;
    *it = parked[--parked_size];
  }
  // After SQLite's cache dropped every page numbered `limit` or above.
  void Dropped(unsigned limit) {
    bound = limit == 0 ? 0 : std::min(bound, limit - 1);
    auto end = std::remove_if(parked.begin(), parked.begin() + parked_size,
                              [limit](unsigned key) { return key >= limit; });
    parked_size = static_cast<size_t>(end - parked.begin());
  }
};

Cache* Of(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

int Init(void* arg) { return real.xInit(arg); }
void Shutdown(void* arg) {
  if (real.xShutdown != nullptr) real.xShutdown(arg);
}

sqlite3_pcache* Create(int page_size, int extra_size, int purgeable) {
  auto* cache = new (std::nothrow) Cache;
  if (cache == nullptr) return nullptr;
  cache->inner = real.xCreate(page_size, extra_size, purgeable);
  if (cache->inner == nullptr) {
    delete cache;
    return nullptr;
  }
  return reinterpret_cast<sqlite3_pcache*>(cache);
}

void Cachesize(sqlite3_pcache* p, int pages) { real.xCachesize(Of(p)->inner, pages); }
int Pagecount(sqlite3_pcache* p) { return real.xPagecount(Of(p)->inner); }

sqlite3_pcache_page* Fetch(sqlite3_pcache* p, unsigned key, int create) {
  Cache* cache = Of(p);
  sqlite3_pcache_page* page = real.xFetch(cache->inner, key, create);
  // A page is only ever added to the cache by a fetch that may create it, or by a move.
  if (page != nullptr && create != 0 && key > cache->bound) cache->bound = key;
  return page;
}

void Unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  real.xUnpin(Of(p)->inner, page, discard);
}

void Rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  Cache* cache = Of(p);
  real.xRekey(cache->inner, page, old_key, new_key);
  cache->Unpark(old_key);
  if (new_key > cache->bound) {
    cache->Park(new_key);
    parked_count.fetch_add(1, std::memory_order_relaxed);
  }
}

void Truncate(sqlite3_pcache* p, unsigned limit) {
  Cache* cache = Of(p);
  truncates_asked.fetch_add(1, std::memory_order_relaxed);
  if (!cache->MayHoldFrom(limit)) return;  // nothing to drop: skip SQLite's walk of the cache
  truncates_passed.fetch_add(1, std::memory_order_relaxed);
  real.xTruncate(cache->inner, limit);
  cache->Dropped(limit);
}

void Destroy(sqlite3_pcache* p) {
  Cache* cache = Of(p);
  real.xDestroy(cache->inner);
  delete cache;
}

void Shrink(sqlite3_pcache* p) {
  if (real.xShrink != nullptr) real.xShrink(Of(p)->inner);
}

}  // namespace

bool InstallPageCache() {
  static const bool installed = [] {
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &real) != SQLITE_OK) return false;
    sqlite3_pcache_methods2 methods = real;  // the same version and argument
    methods.xInit = Init;
    methods.xShutdown = Shutdown;
    methods.xCreate = Create;
    methods.xCachesize = Cachesize;
    methods.xPagecount = Pagecount;
    methods.xFetch = Fetch;
    methods.xUnpin = Unpin;
    methods.xRekey = Rekey;
    methods.xTruncate = Truncate;
    methods.xDestroy = Destroy;
    methods.xShrink = Shrink;
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, &methods) == SQLITE_OK;
  }();
  return installed;
}

PageCacheCounts PageCacheCountsNow() {
  return {truncates_asked.load(std::memory_order_relaxed),
          truncates_passed.load(std::memory_order_relaxed),
          parked_count.load(std::memory_order_relaxed)};
}

}  // namespace tandem::storage::sqlite
