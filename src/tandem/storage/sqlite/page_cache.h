#pragma once

#include <cstdint>

namespace tandem::storage::sqlite {

// Puts a thin layer over SQLite's own page cache, for every connection of the process. It must
// run before SQLite initialises (Connection::Open calls it first); it answers false if it came
// too late, and SQLite then keeps its page cache as it is.
//
// Why: at the end of every write transaction SQLite asks its page cache to drop the pages past the
// end of the database. The cache remembers only the largest page number it has held since the last
// such drop, and a b-tree rebalance that swaps two pages parks one of them for a moment under the
// number of the lock page (page 262,145 with 4 KiB pages). After that the cache believes pages
// may lie past the end and walks all of its pages at every commit: 16,384 of them in the writer's
// 64 MiB cache, 9 % of the writer's time under the flash sale. This layer keeps its own bound of
// the page numbers the cache can hold, not counting a page parked while it is being swapped and
// moved away again, and passes the drop on only when a page may lie past the limit.
bool InstallPageCache();

// Counters for tests, over every page cache: the drops SQLite asked for, those passed on to
// SQLite's cache, and the pages moved above the bound (the swaps that parked a page).
struct PageCacheCounts {
  uint64_t truncates_asked = 0;
  uint64_t truncates_passed = 0;
  uint64_t parked = 0;
};
PageCacheCounts PageCacheCountsNow();

}  // namespace tandem::storage::sqlite
