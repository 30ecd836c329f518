// The fault-injecting VFS under real SQLite connections: what a sync made durable survives a
// power cut and nothing else does, and each fault plan fails the calls it names.
#include "testing/fault_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tandem/base/check.h"
#include "testing/temp_dir.h"

namespace tandem::testing {
namespace {

// One connection through the fault VFS, in WAL mode with PRAGMA synchronous=`synchronous` (set
// first: a new file's switch to WAL is synced or not by it too). It closes as a crash leaves the
// files: no checkpoint, the WAL kept (unless `checkpoint_on_close`).
class Db {
 public:
  Db(const std::string& path, const FaultVfs& vfs, const std::string& synchronous = "FULL",
     bool checkpoint_on_close = false) {
    const int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                   vfs.name().c_str());
    EXPECT_EQ(rc, SQLITE_OK) << sqlite3_errstr(rc);
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, checkpoint_on_close ? 0 : 1, nullptr);
    EXPECT_EQ(Exec("PRAGMA synchronous=" + synchronous +
                   "; PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;"),
              SQLITE_OK);
  }
  ~Db() { sqlite3_close(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // The extended result code of running `sql`.
  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  // The first column of the first row of `sql`, -1 when it fails.
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int64_t out = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      out = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return out;
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  int64_t Rows() { return Int("SELECT count(*) FROM t"); }
  bool HasRow(int id) {
    return Int("SELECT count(*) FROM t WHERE id = " + std::to_string(id)) == 1;
  }
  int Insert(int id) {
    return Exec("INSERT INTO t (id, v) VALUES (" + std::to_string(id) + ", randomblob(3000))");
  }

 private:
  sqlite3* db_ = nullptr;
};

class FaultVfsTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.File("fault.db"); }
  int64_t WalBytes() const {
    std::error_code ec;
    auto size = std::filesystem::file_size(Path() + "-wal", ec);
    return ec ? -1 : static_cast<int64_t>(size);
  }

  // A table with row 1 in it, synced.
  void MakeDurableTable() {
    Db db(Path(), vfs_);
    ASSERT_EQ(db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)"), SQLITE_OK);
    ASSERT_EQ(db.Insert(1), SQLITE_OK);
  }

  // After a power cut: the rows there are exactly `ids`, and SQLite finds the file intact.
  void ExpectAfterPowerCut(const std::vector<int>& ids) {
    vfs_.PowerCut();
    Db db(Path(), vfs_);
    EXPECT_EQ(db.Text("PRAGMA integrity_check"), "ok");
    EXPECT_EQ(db.Rows(), static_cast<int64_t>(ids.size()));
    for (int id : ids) EXPECT_TRUE(db.HasRow(id)) << "row " << id;
  }

  TempDir dir_{"tandem-fault-vfs"};  // declared first: removed after the VFS is gone
  FaultVfs vfs_;
};

TEST_F(FaultVfsTest, ACommitSyncedBySynchronousFullSurvivesAPowerCut) {
  MakeDurableTable();
  {
    Db db(Path(), vfs_);
    ASSERT_EQ(db.Insert(2), SQLITE_OK);
  }
  EXPECT_GT(WalBytes(), 0);  // the commits are in the WAL, not checkpointed
  EXPECT_GE(vfs_.counts().syncs, 2u);
  ExpectAfterPowerCut({1, 2});
}

TEST_F(FaultVfsTest, ACommitNeverSyncedIsGoneAfterAPowerCutAndTheFileStaysIntact) {
  MakeDurableTable();
  const int64_t durable_wal_bytes = WalBytes();
  {
    Db db(Path(), vfs_, "OFF");
    const uint64_t syncs = vfs_.counts().syncs;
    ASSERT_EQ(db.Insert(2), SQLITE_OK);
    ASSERT_EQ(db.Insert(3), SQLITE_OK);
    EXPECT_EQ(vfs_.counts().syncs, syncs);
    EXPECT_EQ(db.Rows(), 3);
  }
  EXPECT_GT(WalBytes(), durable_wal_bytes);
  ExpectAfterPowerCut({1});
  EXPECT_EQ(WalBytes(), durable_wal_bytes);
}

TEST_F(FaultVfsTest, AFileNeverSyncedIsEmptyAfterAPowerCut) {
  {
    Db db(Path(), vfs_, "OFF", /*checkpoint_on_close=*/true);
    ASSERT_EQ(db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)"), SQLITE_OK);
    ASSERT_EQ(db.Insert(1), SQLITE_OK);
  }
  EXPECT_GT(std::filesystem::file_size(Path()), 0u);
  vfs_.PowerCut();
  EXPECT_EQ(std::filesystem::file_size(Path()), 0u);
  Db db(Path(), vfs_);
  EXPECT_EQ(db.Int("SELECT count(*) FROM sqlite_schema"), 0);
}

// The page cache belongs to the file, not to a descriptor: connection b's sync makes what
// connection a wrote to the same WAL durable too.
TEST_F(FaultVfsTest, ASyncThroughAnyHandleMakesTheWholeFileDurable) {
  MakeDurableTable();
  {
    Db a(Path(), vfs_, "OFF");
    Db b(Path(), vfs_, "FULL");
    ASSERT_EQ(a.Insert(2), SQLITE_OK);
    ASSERT_EQ(b.Insert(3), SQLITE_OK);
  }
  ExpectAfterPowerCut({1, 2, 3});
}

// Linux drops the dirty pages of a failed fsync and answers the next one with success: a
// database that commits again after a failed sync has its later commits lost too.
TEST_F(FaultVfsTest, AFailedSyncFailsTheCommitAndNoLaterSyncMakesAnythingDurable) {
  MakeDurableTable();
  {
    Db db(Path(), vfs_);
    const uint64_t faults = vfs_.counts().faults;
    vfs_.FailSyncAfter(0);
    EXPECT_EQ(db.Insert(2), SQLITE_IOERR_FSYNC);
    EXPECT_EQ(vfs_.counts().faults, faults + 1);
    const uint64_t syncs = vfs_.counts().syncs;
    EXPECT_EQ(db.Insert(3), SQLITE_OK);  // the sync after the failed one succeeds...
    EXPECT_GT(vfs_.counts().syncs, syncs);
    EXPECT_EQ(vfs_.counts().faults, faults + 1);
    EXPECT_TRUE(db.HasRow(3));
  }
  ExpectAfterPowerCut({1});  // ...but made nothing durable
  // PowerCut mended the disk: syncs count again.
  {
    Db db(Path(), vfs_);
    ASSERT_EQ(db.Insert(4), SQLITE_OK);
  }
  ExpectAfterPowerCut({1, 4});
}

TEST_F(FaultVfsTest, AFailedWriteFailsOneCommitAndTheNextOneIsKept) {
  MakeDurableTable();
  {
    Db db(Path(), vfs_);
    vfs_.FailWriteAfter(0);
    EXPECT_EQ(db.Insert(2), SQLITE_IOERR_WRITE);
    EXPECT_EQ(db.Insert(3), SQLITE_OK);
  }
  EXPECT_EQ(vfs_.counts().faults, 1u);
  ExpectAfterPowerCut({1, 3});
}

TEST_F(FaultVfsTest, AWriteFailsOnlyAfterTheWritesItWasToldToLetThrough) {
  MakeDurableTable();
  Db db(Path(), vfs_);
  const uint64_t writes = vfs_.counts().writes;
  ASSERT_EQ(db.Insert(2), SQLITE_OK);
  const uint64_t writes_per_commit = vfs_.counts().writes - writes;
  ASSERT_GT(writes_per_commit, 0u);
  vfs_.FailWriteAfter(static_cast<int64_t>(writes_per_commit));
  EXPECT_EQ(db.Insert(3), SQLITE_OK);
  EXPECT_EQ(db.Insert(4), SQLITE_IOERR_WRITE);
  EXPECT_EQ(vfs_.counts().faults, 1u);
}

TEST_F(FaultVfsTest, AfterDieAfterEveryWriteSyncAndDeleteFailsUntilThePowerCut) {
  MakeDurableTable();
  {
    Db db(Path(), vfs_, "FULL", /*checkpoint_on_close=*/true);
    vfs_.DieAfter(1);  // the commit's first write goes through, nothing after it
    EXPECT_EQ(db.Insert(2), SQLITE_IOERR_WRITE);
    const uint64_t faults = vfs_.counts().faults;
    for (int id = 3; id < 8; ++id) EXPECT_NE(db.Insert(id), SQLITE_OK) << "row " << id;
    EXPECT_EQ(db.Exec("PRAGMA wal_checkpoint(TRUNCATE)") & 0xff, SQLITE_IOERR);
    EXPECT_GE(vfs_.counts().faults, faults + 6);
    vfs_.ClearFaults();  // no plan left, but the power stays off
    EXPECT_NE(db.Insert(8), SQLITE_OK);
  }
  // The close could neither checkpoint nor delete the WAL.
  EXPECT_GT(WalBytes(), 0);
  ExpectAfterPowerCut({1});
  Db db(Path(), vfs_);
  EXPECT_EQ(db.Insert(9), SQLITE_OK);
}

// The WAL a clean close deleted is gone with what it recorded: the next WAL of that name is not
// cut back to the old one's size at the power cut.
TEST_F(FaultVfsTest, ADeletedFileIsNotBroughtBackByAPowerCut) {
  {
    Db db(Path(), vfs_, "FULL", /*checkpoint_on_close=*/true);
    ASSERT_EQ(db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)"), SQLITE_OK);
    ASSERT_EQ(db.Exec("PRAGMA synchronous=OFF"), SQLITE_OK);
    ASSERT_EQ(db.Insert(1), SQLITE_OK);  // recorded as undone back to the synced WAL's size
  }
  ASSERT_EQ(WalBytes(), -1);  // deleted at the close
  {
    Db db(Path(), vfs_);
    EXPECT_EQ(db.Int("SELECT count(*) FROM sqlite_schema"), 1);  // opens a new, empty WAL
  }
  ASSERT_EQ(WalBytes(), 0);
  vfs_.PowerCut();
  EXPECT_EQ(WalBytes(), 0);
}

// SQLite and the VFSes stacked over it (the WAL-gathering one) keep a pointer to the VFS: a
// later FaultVfs of the same name is the same VFS, with nothing recorded or planned.
TEST_F(FaultVfsTest, ALaterFaultVfsOfTheSameNameIsTheSameVfsStartedAfresh) {
  EXPECT_THROW(FaultVfs second(vfs_.name()), CheckFailure);
  const std::string name = "tandem-fault-again";
  sqlite3_vfs* registered = nullptr;
  {
    FaultVfs first(name);
    registered = sqlite3_vfs_find(name.c_str());
    ASSERT_NE(registered, nullptr);
    Db db(Path(), first);
    ASSERT_EQ(db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)"), SQLITE_OK);
    first.FailWriteAfter(0);
  }
  FaultVfs again(name);
  EXPECT_EQ(sqlite3_vfs_find(name.c_str()), registered);
  EXPECT_EQ(again.counts().writes, 0u);
  Db db(Path(), again);
  EXPECT_EQ(db.Insert(1), SQLITE_OK);  // the first one's plan is gone
}

// Connections on several threads commit at once through the VFS; a sync on one thread runs
// while another writes the same WAL.
TEST_F(FaultVfsTest, ConnectionsOnSeveralThreadsShareIt) {
  MakeDurableTable();
  constexpr int kThreads = 4;
  constexpr int kRowsPerThread = 25;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      Db db(Path(), vfs_);
      for (int i = 0; i < kRowsPerThread; ++i) {
        EXPECT_EQ(db.Insert(100 + t * kRowsPerThread + i), SQLITE_OK);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<int> ids{1};
  for (int i = 0; i < kThreads * kRowsPerThread; ++i) ids.push_back(100 + i);
  ExpectAfterPowerCut(ids);
}

}  // namespace
}  // namespace tandem::testing
