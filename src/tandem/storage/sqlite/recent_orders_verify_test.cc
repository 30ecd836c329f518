// RecentOrders::Verify, the pair assertion the writer makes in debug builds before each commit:
// every order the open transaction added is remembered as the file has it. Each case shows it
// holding for the memory as made, then firing once the memory and the file disagree, and holding
// again once the disagreeing entry is undone.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tandem/base/check.h"
#include "tandem/storage/sqlite/connection.h"
#include "tandem/storage/sqlite/recent_orders.h"
#include "tandem/storage/sqlite/sqlite_database.h"
#include "tandem/storage/sqlite/stores.h"
#include "testing/temp_dir.h"

namespace tandem::storage::sqlite {
namespace {

constexpr int64_t kPlacedMs = 1'800'000'000'000;

class RecentOrdersVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(MigrateSqlite(dir_.File("tandem.db")).ok());
    c_ = Connection::Open(dir_.File("tandem.db"), false);
    // The first lookup reads the (empty) file; from then on the memory follows the writes.
    ASSERT_EQ(recent_.Candidate(*c_, "nobody@example.my", 0), std::nullopt);
    c_->ExecScript("BEGIN IMMEDIATE");
  }
  void TearDown() override {
    if (c_ && c_->InTransaction()) c_->ExecScript("ROLLBACK");
  }

  // An order placed by the open transaction through the order store, which remembers it.
  int64_t Place(const std::string& email) {
    SqliteOrderStore store(*c_, {.recent_orders = &recent_});
    orders::Order o;
    o.cart_id =
        store.InsertCart({0, "cart token", std::nullopt, true, {}, {}, kPlacedMs, kPlacedMs});
    o.number = "TD-2027-" + std::to_string(++placed_);
    o.tracking_code = "tracking " + o.number;
    o.email = email;
    o.created_ms = o.updated_ms = kPlacedMs;
    return store.InsertOrder(o);
  }

  testing::TempDir dir_{"tandem-recent-orders"};  // declared first: removed after the connection
  std::unique_ptr<Connection> c_;
  RecentOrders recent_;
  int placed_ = 0;
};

TEST_F(RecentOrdersVerifyTest, HoldsWhenEveryOrderAddedIsOnTheFileAsRemembered) {
  Place("a@example.my");
  Place("b@example.my");
  Place("a@example.my");
  ASSERT_EQ(recent_.added(), 3u);
  EXPECT_NO_THROW(recent_.Verify(*c_));
}

TEST_F(RecentOrdersVerifyTest, FailsWhenAnAddedOrderIsOnTheFileWithAnotherEmail) {
  const int64_t id = Place("a@example.my");
  ASSERT_NO_THROW(recent_.Verify(*c_));
  // As if the memory had filed the order under the wrong key.
  const size_t mark = recent_.added();
  recent_.Add("b@example.my", id, kPlacedMs);
  EXPECT_THROW(recent_.Verify(*c_), CheckFailure);
  recent_.Undo(mark);
  EXPECT_NO_THROW(recent_.Verify(*c_));
  // The file changed under the memory: the order now has another e-mail.
  c_->ExecScript("UPDATE orders SET email = 'c@example.my'");
  EXPECT_THROW(recent_.Verify(*c_), CheckFailure);
}

TEST_F(RecentOrdersVerifyTest, FailsWhenAnAddedOrderIsOnTheFileWithAnotherTime) {
  const int64_t id = Place("a@example.my");
  ASSERT_NO_THROW(recent_.Verify(*c_));
  const size_t mark = recent_.added();
  recent_.Add("a@example.my", id, kPlacedMs + 1);
  EXPECT_THROW(recent_.Verify(*c_), CheckFailure);
  recent_.Undo(mark);
  EXPECT_NO_THROW(recent_.Verify(*c_));
  c_->ExecScript("UPDATE orders SET created_ms = created_ms - 1");
  EXPECT_THROW(recent_.Verify(*c_), CheckFailure);
}

TEST_F(RecentOrdersVerifyTest, FailsWhenAnAddedOrderIsNotOnTheFile) {
  const int64_t id = Place("a@example.my");
  ASSERT_NO_THROW(recent_.Verify(*c_));
  const size_t mark = recent_.added();
  recent_.Add("b@example.my", id + 1000, kPlacedMs);
  EXPECT_THROW(recent_.Verify(*c_), CheckFailure);
  recent_.Undo(mark);
  EXPECT_NO_THROW(recent_.Verify(*c_));
}

}  // namespace
}  // namespace tandem::storage::sqlite
