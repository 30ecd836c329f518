// Binding text: Exec binds it where it lies (no copy), Select copies it, because Select's rows
// are read after its arguments may be gone.
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

}  // namespace
}  // namespace tandem::storage::sqlite
