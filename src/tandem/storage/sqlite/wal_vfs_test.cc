// The WAL-gathering VFS: a commit's frames reach the file in a few writes, every commit is on the
// file when another connection can see it, and what a commit wrote survives a crash (the WAL is
// recovered from the file alone, checksums included).
#include "tandem/storage/sqlite/wal_vfs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "tandem/storage/sqlite/connection.h"
#include "testing/temp_dir.h"

namespace tandem::storage::sqlite {
namespace {

constexpr Query kTotals{"totals",
                        "SELECT count(*), coalesce(sum(length(v)), 0), coalesce(sum(n), 0) FROM t"};
constexpr Query kIntegrity{"integrity", "PRAGMA integrity_check"};

class WalVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_ = Connection::Open(Path(), true, /*gather_wal_writes=*/true);
    // No checkpoint: every committed page stays in the WAL, which is what is tested.
    writer_->ExecScript(
        "PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=NORMAL;"
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, v BLOB NOT NULL);");
  }
  std::string Path() const { return dir_.File("tandem.db"); }

  // Inserts `rows` rows with n = `n` and `bytes` bytes each, in one transaction.
  static void Insert(Connection& c, int rows, int bytes, int n = 1) {
    std::string sql = "BEGIN; WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k "
                      "WHERE i < " + std::to_string(rows) + ") INSERT INTO t (n, v) SELECT " +
                      std::to_string(n) + ", randomblob(" + std::to_string(bytes) +
                      ") FROM k; COMMIT;";
    c.ExecScript(sql.c_str());
  }
  void Insert(int rows, int bytes) { Insert(*writer_, rows, bytes); }

  struct Totals {
    int64_t rows, bytes, n;
  };
  static Totals Read(Connection& c) {
    Rows r = c.Select(kTotals);
    EXPECT_TRUE(r.Next());
    return {r.Int(0), r.Int(1), r.Int(2)};
  }

  // `c` sees exactly `expected`, and the database passes SQLite's integrity check.
  static void ExpectIntact(Connection& c, const Totals& expected) {
    Totals seen = Read(c);
    EXPECT_EQ(seen.rows, expected.rows);
    EXPECT_EQ(seen.bytes, expected.bytes);
    EXPECT_EQ(seen.n, expected.n);
    Rows check = c.Select(kIntegrity);
    ASSERT_TRUE(check.Next());
    EXPECT_EQ(check.Text(0), "ok");
  }

  testing::TempDir dir_{"tandem-wal-vfs"};  // declared first: removed after the connections
  std::unique_ptr<Connection> writer_;
};

TEST_F(WalVfsTest, ACommitsFramesReachTheFileInAFewWrites) {
  WalWriteCounts before = WalWriteCountsNow();
  Insert(200, 1000);  // about 50 pages of 4 KiB: 100 writes asked for
  WalWriteCounts after = WalWriteCountsNow();
  const uint64_t asked = after.asked - before.asked;
  const uint64_t written = after.written - before.written;
  EXPECT_GE(asked, 100u);
  EXPECT_EQ(after.ungathered, before.ungathered);
  // The frames in pieces of 64 KiB: about 210 KiB.
  EXPECT_LE(written, 5u) << asked << " writes asked for";

  auto reader = Connection::Open(Path(), false);
  Totals t = Read(*reader);
  EXPECT_EQ(t.rows, 200);
  EXPECT_EQ(t.bytes, 200 * 1000);
}

TEST_F(WalVfsTest, EveryCommitIsOnTheFileWhenAnotherConnectionSeesIt) {
  auto reader = Connection::Open(Path(), false);
  for (int i = 1; i <= 50; ++i) {
    Insert(i % 7 + 1, 300);
    std::string bump = "UPDATE t SET n = n + 1 WHERE id % 5 = " + std::to_string(i % 5);
    writer_->ExecScript(bump.c_str());
    Totals seen = Read(*reader);
    Totals written = Read(*writer_);
    ASSERT_EQ(seen.rows, written.rows) << "commit " << i;
    ASSERT_EQ(seen.bytes, written.bytes) << "commit " << i;
    ASSERT_EQ(seen.n, written.n) << "commit " << i;
  }
  ExpectIntact(*reader, Read(*writer_));
}

TEST_F(WalVfsTest, ATransactionLargerThanTheCacheSurvivesACrash) {
  // A cache of a few pages makes SQLite spill pages into the WAL before the commit, read them
  // back, write some of them again in place and rewrite the frames' checksums at the commit: the
  // writes this VFS must pass on at once rather than gather.
  writer_->ExecScript("PRAGMA cache_size=5");
  Insert(300, 700);
  WalWriteCounts before = WalWriteCountsNow();
  writer_->ExecScript("BEGIN; UPDATE t SET n = n + 1, v = randomblob(650); "
                      "UPDATE t SET n = n + 2 WHERE id % 3 = 0; COMMIT;");
  const Totals written{300, 300 * 650, 300 * 2 + 100 * 2};
  // Pages were written in place or checksums rewritten: writes that were passed on at once.
  EXPECT_GT(WalWriteCountsNow().ungathered, before.ungathered);

  // A crash right after the commit, before the writer touches the WAL again: copy the database
  // and its WAL (not the WAL index). Opening the copy recovers the WAL from the file, checking
  // every frame's checksum, so the commit counts only if all its frames, and their rewritten
  // checksums, reached the file.
  std::filesystem::path copy = dir_.path() / "copy";
  std::filesystem::create_directories(copy);
  std::filesystem::copy_file(Path(), copy / "tandem.db");
  std::filesystem::copy_file(Path() + "-wal", copy / "tandem.db-wal");
  auto recovered = Connection::Open((copy / "tandem.db").string(), false);
  ExpectIntact(*recovered, written);
}

TEST_F(WalVfsTest, FramesOfARolledBackTransactionNeverReachTheFile) {
  // A transaction larger than the cache spills frames into the WAL (gathered, not written) and
  // rolls back. Another connection then commits frames at the same offsets; when the writer next
  // reads the WAL, the spilled frames must not overwrite them. (The WAL is emptied first, so that
  // the rollback reads its pages from the database file: a read of the WAL while the writer still
  // holds the write lock would write the frames out harmlessly, as SQLite itself does.)
  Insert(10, 100);
  writer_->ExecScript("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA cache_size=5");
  WalWriteCounts before = WalWriteCountsNow();
  writer_->ExecScript(
      "BEGIN; WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 400) "
      "INSERT INTO t (n, v) SELECT 9, randomblob(700) FROM k; ROLLBACK;");
  ASSERT_GT(WalWriteCountsNow().discarded, before.discarded) << "nothing was left to discard";
  auto other = Connection::Open(Path(), false);
  Insert(*other, 200, 700, 5);
  const Totals expected{10 + 200, 10 * 100 + 200 * 700, 10 + 200 * 5};
  ExpectIntact(*writer_, expected);
  auto third = Connection::Open(Path(), false);
  ExpectIntact(*third, expected);
}

TEST_F(WalVfsTest, PaddedCommitsAreWholeWhenReadersSeeThem) {
  // Without "power-safe overwrite" and with synchronous=FULL, SQLite pads each commit with copies
  // of its last frame up to a sector boundary and splits the write that crosses it around an
  // fsync: the rest of that write comes after the commit was written out, and a reader reads the
  // last copy of the page.
  sqlite3* db = nullptr;
  std::string uri = "file:" + dir_.File("padded.db") + "?psow=0";
  ASSERT_EQ(sqlite3_open_v2(uri.c_str(), &db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                            GatheringWalVfs()),
            SQLITE_OK);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> closer(db, &sqlite3_close);
  auto exec = [db](const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
  };
  exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;"
       "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, v BLOB NOT NULL)");
  auto reader = Connection::Open(dir_.File("padded.db"), false);
  WalWriteCounts before = WalWriteCountsNow();
  for (int i = 1; i <= 30; ++i) {
    exec("INSERT INTO t (n, v) VALUES (" + std::to_string(i) + ", randomblob(" +
         std::to_string(300 * i) + "))");
    Totals seen = Read(*reader);
    ASSERT_EQ(seen.rows, i);
    ASSERT_EQ(seen.n, i * (i + 1) / 2);
    ASSERT_EQ(seen.bytes, 300 * i * (i + 1) / 2);
  }
  // The padding's split writes happened: the part after each sync is passed on at once.
  EXPECT_GE(WalWriteCountsNow().ungathered - before.ungathered, 25u);
  ExpectIntact(*reader, {30, 300 * 30 * 31 / 2, 30 * 31 / 2});
}

}  // namespace
}  // namespace tandem::storage::sqlite
