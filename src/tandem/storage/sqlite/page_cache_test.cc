// The layer over SQLite's page cache: a commit after a rebalance that parked a page does not walk
// the cache, and pages past the end of the database are still dropped when there are some.
#include "tandem/storage/sqlite/page_cache.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tandem/storage/sqlite/connection.h"
#include "testing/temp_dir.h"

namespace tandem::storage::sqlite {
namespace {

constexpr Query kInsert{"insert", "INSERT INTO t (k, v) VALUES (randomblob(40), zeroblob(?))"};
constexpr Query kCount{"count", "SELECT count(*) FROM t"};
constexpr Query kIntegrity{"integrity", "PRAGMA integrity_check"};

class PageCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = Connection::Open(dir_.File("tandem.db"), true);
    ASSERT_TRUE(InstallPageCache());  // installed by the first open
    db_->ExecScript(
        "PRAGMA cache_size=-65536; PRAGMA synchronous=OFF;"
        "CREATE TABLE t (id INTEGER PRIMARY KEY, k BLOB NOT NULL, v BLOB NOT NULL);"
        "CREATE INDEX t_k ON t(k);");
  }

  // Inserts `rows` rows with random index keys, so index pages split and are rebalanced. One
  // statement per row: a recursive query would add a temporary table with a cache of its own.
  void Insert(int rows, int value_bytes) {
    for (int i = 0; i < rows; ++i) db_->Exec(kInsert, int64_t{value_bytes});
  }
  int64_t CacheBytes() {
    int used = 0, highwater = 0;
    EXPECT_EQ(sqlite3_db_status(db_->raw(), SQLITE_DBSTATUS_CACHE_USED, &used, &highwater, 0),
              SQLITE_OK);
    return used;
  }
  void ExpectIntact(int64_t rows) {
    Rows count = db_->Select(kCount);
    ASSERT_TRUE(count.Next());
    EXPECT_EQ(count.Int(0), rows);
    Rows check = db_->Select(kIntegrity);
    ASSERT_TRUE(check.Next());
    EXPECT_EQ(check.Text(0), "ok");
  }

  testing::TempDir dir_{"tandem-page-cache"};  // declared first: removed after the connection
  std::unique_ptr<Connection> db_;
};

TEST_F(PageCacheTest, CommitsAfterARebalanceSwapDoNotWalkTheCache) {
  PageCacheCounts before = PageCacheCountsNow();
  constexpr int kCommits = 300;
  for (int i = 0; i < kCommits; ++i) {
    db_->ExecScript("BEGIN");
    Insert(40, 20);
    db_->ExecScript("COMMIT");
  }
  PageCacheCounts after = PageCacheCountsNow();
  // The rebalances swapped pages (parking one above the end each time)...
  EXPECT_GT(after.parked, before.parked);
  // ...and every commit asked to drop the pages past the end, but none could lie there.
  EXPECT_GE(after.truncates_asked - before.truncates_asked, uint64_t{kCommits});
  EXPECT_EQ(after.truncates_passed, before.truncates_passed);
  ExpectIntact(kCommits * 40);
}

TEST_F(PageCacheTest, PagesPastTheEndAfterASavepointRollbackAreDropped) {
  Insert(200, 20);
  int64_t cached = CacheBytes();
  PageCacheCounts before = PageCacheCountsNow();
  // As the group commit undoes one failed write: the savepoint grew the file by about 200 pages,
  // which lie past the end once it is rolled back and must leave the cache at the commit.
  db_->ExecScript("BEGIN; SAVEPOINT one;");
  Insert(200, 4000);
  db_->ExecScript("ROLLBACK TO one; RELEASE one; COMMIT;");
  PageCacheCounts after = PageCacheCountsNow();
  EXPECT_GT(after.truncates_passed, before.truncates_passed);
  EXPECT_LT(CacheBytes(), cached + 50 * 4096);
  ExpectIntact(200);
  Insert(100, 4000);  // the file grows again over the same page numbers
  ExpectIntact(300);
}

}  // namespace
}  // namespace tandem::storage::sqlite
