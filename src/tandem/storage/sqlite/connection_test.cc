// Binding text: Exec binds it where it lies (no copy), Select copies it, because Select's rows
// are read after its arguments may be gone. Inserts that wait (Connection::Insert): written many
// to a statement with the ids given when they waited, before what must see them, and dropped by
// a rollback.
#include "tandem/storage/sqlite/connection.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "testing/temp_dir.h"

namespace tandem::storage::sqlite {
namespace {

constexpr Query kInsert{"insert", "INSERT INTO t (k, v) VALUES (?, ?)"};
constexpr Query kSelectByKey{"select_by_key", "SELECT v FROM t WHERE k = ?"};
constexpr Query kEcho{"echo", "SELECT ?"};

class ConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = Connection::Open(dir_.File("tandem.db"), true);
    db_->ExecScript("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)");
  }

  testing::TempDir dir_{"tandem-connection"};  // declared first: removed after the connection
  std::unique_ptr<Connection> db_;
};

TEST_F(ConnectionTest, ExecStoresTemporaryTextWhole) {
  // Temporaries live until the end of the full expression, so Exec's run sees them whole.
  EXPECT_EQ(db_->Exec(kInsert, std::string(300, 'k'), std::string(5000, 'v')), 1);
  Rows r = db_->Select(kSelectByKey, std::string(300, 'k'));
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.Text(0), std::string(5000, 'v'));
  EXPECT_FALSE(r.Next());
}

TEST_F(ConnectionTest, SelectReadsTextItsArgumentNoLongerHolds) {
  std::string text(5000, 'a');
  Rows r = db_->Select(kEcho, text);
  // Overwritten and freed before the statement runs: the bound copy must not see it.
  text.assign(5000, 'b');
  text.clear();
  text.shrink_to_fit();
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.Text(0), std::string(5000, 'a'));
}

TEST_F(ConnectionTest, ExecLeavesNoBindingBehind) {
  // A statement run by Exec, then by Select without its second parameter: that parameter is
  // NULL, not the text (gone by then) that Exec bound where it lay.
  constexpr Query kInsertDefault{"insert_default",
                                 "INSERT INTO t (k, v) VALUES (?, ifnull(?, 'none'))"};
  db_->Exec(kInsertDefault, std::string("first"), std::string("given"));
  Rows run = db_->Select(kInsertDefault, std::string("second"));  // the second parameter unbound
  EXPECT_FALSE(run.Next());
  Rows r = db_->Select(kSelectByKey, std::string("second"));
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.Text(0), "none");
}

constexpr Query kInsertParent{"insert_parent", "INSERT INTO parent (id, name) VALUES (?, ?)"};
constexpr Query kInsertChild{
    "insert_child", "INSERT INTO child (id, parent_id, note, amount) VALUES (?, ?, ?, ?)"};
constexpr Query kCountChildren{"count_children", "SELECT count(*) FROM child"};
constexpr Query kSelectChildren{"select_children",
                                "SELECT c.id, c.parent_id, c.note, c.amount, p.name "
                                "FROM child c JOIN parent p ON p.id = c.parent_id ORDER BY c.id"};
constexpr Query kCountT{"count_t", "SELECT count(*) FROM t"};
constexpr Query kBegin{"begin", "BEGIN IMMEDIATE"};
constexpr Query kCommit{"commit", "COMMIT"};
constexpr Query kRollback{"rollback", "ROLLBACK"};

class DeferredInsertTest : public ConnectionTest {
 protected:
  void SetUp() override {
    ConnectionTest::SetUp();
    db_->ExecScript(
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
        "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL "
        "REFERENCES parent(id), note TEXT, amount INTEGER NOT NULL CHECK (amount > 0));");
    db_->AllowDeferred({&kInsertParent, &kInsertChild});
  }

  int64_t Count(const Query& q) {
    Rows r = db_->Select(q);
    EXPECT_TRUE(r.Next());
    return r.Int(0);
  }
  int64_t Written() { return sqlite3_total_changes64(db_->raw()); }
};

TEST_F(DeferredInsertTest, RowsWaitAndAreWrittenAtCommitWithTheIdsTheyWereGiven) {
  db_->Exec(kBegin);
  db_->DeferInserts(true);
  const int64_t written = Written(), changes = db_->TotalChanges();
  std::vector<int64_t> parents, children;
  // 100 rows a table: statements of 64, 32 and 4 rows.
  for (int i = 0; i < 100; ++i) {
    parents.push_back(db_->Insert(kInsertParent, "p" + std::to_string(i)));
    std::optional<std::string> note;
    if (i % 3 != 0) note = std::string(static_cast<size_t>(i), 'n');
    children.push_back(db_->Insert(kInsertChild, parents.back(), note, int64_t{i + 1}));
  }
  EXPECT_EQ(db_->RowsWaiting(), 200u);
  EXPECT_EQ(Written(), written);  // nothing ran
  EXPECT_EQ(db_->TotalChanges(), changes + 200);
  EXPECT_EQ(Count(kCountT), 0);  // a statement naming neither table writes nothing out
  EXPECT_EQ(db_->RowsWaiting(), 200u);
  db_->Exec(kCommit);
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  EXPECT_EQ(Written(), written + 200);

  Rows r = db_->Select(kSelectChildren);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(r.Next());
    EXPECT_EQ(r.Int(0), children[static_cast<size_t>(i)]);
    EXPECT_EQ(r.Int(1), parents[static_cast<size_t>(i)]);
    EXPECT_EQ(r.IsNull(2), i % 3 == 0);
    if (i % 3 != 0) {
      EXPECT_EQ(r.Text(2), std::string(static_cast<size_t>(i), 'n'));
    }
    EXPECT_EQ(r.Int(3), i + 1);
    EXPECT_EQ(r.Text(4), "p" + std::to_string(i));
  }
  EXPECT_FALSE(r.Next());
}

TEST_F(DeferredInsertTest, AStatementNamingATableSeesTheRowsThatWaitedForIt) {
  db_->Exec(kBegin);
  db_->DeferInserts(true);
  const int64_t parent = db_->Insert(kInsertParent, "p");
  for (int i = 0; i < 3; ++i) db_->Insert(kInsertChild, parent, std::nullopt, int64_t{1});
  EXPECT_EQ(Count(kCountChildren), 3);
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  // Ids go on from the rows written.
  EXPECT_EQ(db_->Insert(kInsertChild, parent, std::nullopt, int64_t{1}), 4);
  db_->Exec(kCommit);
  EXPECT_EQ(Count(kCountChildren), 4);
}

TEST_F(DeferredInsertTest, AnInsertReferringToAWaitingRowFindsItWritten) {
  // `tag` is not deferred and names no deferred table, but its foreign key refers to parent:
  // the check of that key must find the parent row.
  db_->ExecScript("CREATE TABLE tag (parent_id INTEGER NOT NULL REFERENCES parent(id))");
  db_->AllowDeferred({});  // reads the foreign keys again, with tag's
  constexpr Query kInsertTag{"insert_tag", "INSERT INTO tag (parent_id) VALUES (?)"};
  db_->Exec(kBegin);
  db_->DeferInserts(true);
  const int64_t parent = db_->Insert(kInsertParent, "p");
  EXPECT_EQ(db_->RowsWaiting(), 1u);
  EXPECT_EQ(db_->Exec(kInsertTag, parent), 1);
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  db_->Exec(kCommit);
}

TEST_F(DeferredInsertTest, ARollbackDropsTheRowsThatWaitAndTheirIdsAreGivenAgain) {
  db_->Exec(kBegin);
  db_->DeferInserts(true);
  EXPECT_EQ(db_->Insert(kInsertParent, "gone"), 1);
  EXPECT_EQ(db_->Insert(kInsertParent, "gone too"), 2);
  db_->Exec(kRollback);
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  db_->Exec(kBegin);
  EXPECT_EQ(db_->Insert(kInsertParent, "kept"), 1);
  db_->Exec(kCommit);
  constexpr Query kNames{"names", "SELECT group_concat(name) FROM parent"};
  Rows r = db_->Select(kNames);
  ASSERT_TRUE(r.Next());
  EXPECT_EQ(r.Text(0), "kept");
}

TEST_F(DeferredInsertTest, RollingBackToASavepointKeepsWhatWaitedBeforeIt) {
  db_->Exec(kBegin);
  db_->DeferInserts(true);
  const int64_t parent = db_->Insert(kInsertParent, "before");
  db_->ExecScript("SAVEPOINT job");  // writes out what waits
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  db_->Insert(kInsertChild, parent, std::nullopt, int64_t{1});
  db_->ExecScript("ROLLBACK TO job; RELEASE job");
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  db_->Exec(kCommit);
  EXPECT_EQ(Count(kCountChildren), 0);
  constexpr Query kParents{"parents", "SELECT count(*) FROM parent"};
  EXPECT_EQ(Count(kParents), 1);
}

TEST_F(DeferredInsertTest, ARowThatFailsWhenWrittenOutFailsItsStatementByName) {
  db_->Exec(kBegin);
  db_->DeferInserts(true);
  const int64_t parent = db_->Insert(kInsertParent, "p");
  db_->Insert(kInsertChild, parent, std::nullopt, int64_t{0});  // CHECK (amount > 0)
  try {
    db_->WriteDeferred();
    ADD_FAILURE() << "a row breaking a CHECK was written";
  } catch (const SqliteError& e) {
    EXPECT_NE(std::string(e.what()).find("insert_child"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  db_->Exec(kRollback);
  EXPECT_EQ(Count(kCountChildren), 0);
}

TEST_F(DeferredInsertTest, WithoutDeferringAnInsertRunsAtOnce) {
  const int64_t written = Written();
  EXPECT_EQ(db_->Insert(kInsertParent, "now"), 1);  // deferring is off by default
  EXPECT_EQ(Written(), written + 1);
  db_->Exec(kBegin);
  db_->DeferInserts(true);
  db_->Insert(kInsertParent, "waits");
  db_->DeferInserts(false);  // writes out what waits
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  EXPECT_EQ(db_->Insert(kInsertParent, "now too"), 3);
  db_->Exec(kCommit);
  EXPECT_EQ(Written(), written + 3);
}

constexpr Query kMove{"move",
                     "UPDATE stock SET held = held - ?3, sold = sold + ?3 "
                     "WHERE sku = ?1 AND loc = ?2 AND held >= ?3"};
constexpr Query kDeleteItem{"delete_item", "DELETE FROM item WHERE id = ?"};
constexpr Query kStockOf{"stock_of", "SELECT held, sold FROM stock WHERE sku = ? AND loc = ?"};
constexpr Query kCountItems{"count_items", "SELECT count(*) FROM item"};

// Connection::Change: changes that wait like inserts, written many to a statement.
class DeferredChangeTest : public DeferredInsertTest {
 protected:
  void SetUp() override {
    DeferredInsertTest::SetUp();
    db_->ExecScript(
        "CREATE TABLE stock (sku TEXT NOT NULL, loc INTEGER NOT NULL, held INTEGER NOT NULL, "
        "sold INTEGER NOT NULL, PRIMARY KEY (sku, loc));"
        "CREATE TABLE item (id INTEGER PRIMARY KEY, note TEXT);"
        "INSERT INTO stock VALUES ('a', 1, 50, 0), ('a', 2, 50, 0), ('b', 1, 50, 0);"
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) "
        "INSERT INTO item SELECT i, 'x' FROM n;");
    db_->AllowDeferred({}, {{&kMove, "stock",
                             "UPDATE stock SET held = held - v.column3, sold = sold + v.column3 "
                             "FROM (VALUES ",
                             "(?, ?, ?)",
                             ") AS v WHERE stock.sku = v.column1 AND stock.loc = v.column2 "
                             "AND stock.held >= v.column3",
                             2},
                            {&kDeleteItem, "item", "DELETE FROM item WHERE id IN (", "?", ")"}});
  }

  std::pair<int64_t, int64_t> Stock(const std::string& sku, int64_t loc) {
    Rows r = db_->Select(kStockOf, sku, loc);
    EXPECT_TRUE(r.Next());
    return {r.Int(0), r.Int(1)};
  }
};

TEST_F(DeferredChangeTest, ChangesWaitAreMergedByTheirKeyAndWrittenAtCommit) {
  db_->Exec(kBegin);
  db_->DeferInserts(true);
  const int64_t written = Written(), changes = db_->TotalChanges();
  for (int i = 0; i < 90; ++i) {
    EXPECT_EQ(db_->Change(kMove, i % 3 == 2 ? "b" : "a", int64_t{i % 3 == 1 ? 2 : 1},
                          int64_t{i % 2 + 1}),
              1);
  }
  for (int64_t id = 1; id <= 70; ++id) EXPECT_EQ(db_->Change(kDeleteItem, id), 1);
  EXPECT_EQ(Written(), written);  // nothing ran
  EXPECT_EQ(db_->RowsWaiting(), 3u + 70u);  // the moves merged into one row per SKU and place
  EXPECT_EQ(db_->TotalChanges(), changes + 160);
  db_->Exec(kCommit);
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  // Each key had 30 moves, alternately of 1 and 2 units: 45.
  EXPECT_EQ(Stock("a", 1), (std::pair<int64_t, int64_t>{5, 45}));
  EXPECT_EQ(Stock("a", 2), (std::pair<int64_t, int64_t>{5, 45}));
  EXPECT_EQ(Stock("b", 1), (std::pair<int64_t, int64_t>{5, 45}));
  EXPECT_EQ(Count(kCountItems), 30);
}

// A waiting change that its statement cannot make (its condition fails, its row is gone) fails
// the write-out, as a failing insert does: nothing of it is taken as done.
TEST_F(DeferredChangeTest, AChangeThatCannotBeMadeFailsTheWriteOut) {
  db_->Exec(kBegin);
  db_->DeferInserts(true);
  EXPECT_EQ(db_->Change(kMove, "a", int64_t{1}, int64_t{30}), 1);
  EXPECT_EQ(db_->Change(kMove, "a", int64_t{1}, int64_t{30}), 1);  // 60 of 50 held
  EXPECT_THROW(db_->Exec(kCommit), SqliteError);
  db_->Exec(kRollback);
  EXPECT_EQ(Stock("a", 1), (std::pair<int64_t, int64_t>{50, 0}));

  db_->Exec(kBegin);
  EXPECT_EQ(db_->Change(kDeleteItem, int64_t{5}), 1);
  EXPECT_EQ(db_->Change(kDeleteItem, int64_t{500}), 1);  // no such item
  EXPECT_THROW(db_->WriteDeferred(), SqliteError);
  db_->Exec(kRollback);
  EXPECT_EQ(Count(kCountItems), 100);
}

TEST_F(DeferredChangeTest, AStatementNamingTheTableSeesTheChangeAndARollbackDropsIt) {
  db_->Exec(kBegin);
  db_->DeferInserts(true);
  db_->Change(kMove, "b", int64_t{1}, int64_t{4});
  EXPECT_EQ(Count(kCountItems), 100);  // names another table: the move still waits
  EXPECT_EQ(db_->RowsWaiting(), 1u);
  EXPECT_EQ(Stock("b", 1), (std::pair<int64_t, int64_t>{46, 4}));
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  db_->Change(kMove, "b", int64_t{1}, int64_t{4});
  db_->Exec(kRollback);
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  EXPECT_EQ(Stock("b", 1), (std::pair<int64_t, int64_t>{50, 0}));
}

// What waits for other tables goes on waiting: an add to a cart (naming the stock rows, the
// holds) leaves the batch's orders and other changes to be written together later.
TEST_F(DeferredChangeTest, AStatementWritesOutOnlyWhatWaitsForTheTablesItNames) {
  db_->Exec(kBegin);
  db_->DeferInserts(true);
  const int64_t parent = db_->Insert(kInsertParent, "p");
  db_->Change(kMove, "a", int64_t{1}, int64_t{1});
  db_->Change(kDeleteItem, int64_t{9});
  EXPECT_EQ(Stock("a", 1), (std::pair<int64_t, int64_t>{49, 1}));
  EXPECT_EQ(db_->RowsWaiting(), 2u);  // the parent and the delete
  db_->Insert(kInsertChild, parent, std::nullopt, int64_t{1});
  EXPECT_EQ(Count(kCountChildren), 1);  // the child, with its parent first
  EXPECT_EQ(db_->RowsWaiting(), 1u);    // the delete
  EXPECT_EQ(Count(kCountItems), 99);
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  db_->Exec(kCommit);
}

TEST_F(DeferredChangeTest, WithoutDeferringAChangeRunsAtOnceAndSaysWhatItChanged) {
  EXPECT_EQ(db_->Change(kMove, "a", int64_t{2}, int64_t{7}), 1);
  EXPECT_EQ(db_->Change(kMove, "a", int64_t{2}, int64_t{700}), 0);
  EXPECT_EQ(db_->RowsWaiting(), 0u);
  EXPECT_EQ(Stock("a", 2), (std::pair<int64_t, int64_t>{43, 7}));
}

}  // namespace
}  // namespace tandem::storage::sqlite
