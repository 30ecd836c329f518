// Storage contract tests over a real SQLite file: the domain operations through the Database seam,
// the conditional updates, group commit and the ledger's append-only rule.
#include "tandem/storage/sqlite/sqlite_database.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tandem/base/crypto.h"
#include "tandem/base/limits.h"
#include "tandem/inventory/adjust.h"
#include "tandem/inventory/allocator.h"
#include "tandem/orders/service.h"
#include "tandem/storage/sqlite/connection.h"
#include "tandem/storage/sqlite/recent_orders.h"
#include "tandem/storage/sqlite/stores.h"
#include "testing/held_write.h"
#include "testing/temp_dir.h"
#include "testing/fake_clock.h"

namespace tandem::storage::sqlite {
namespace {

constexpr int64_t kTtlMs = 60'000;

class SqliteDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = OpenSqlite({dir_.File("tandem.db"), true});
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(db.value());
  }

  // Queues `fns` behind a write that holds the writer until all of them are queued, so that
  // they run as one batch; returns their outcomes in order.
  std::vector<Status> RunAsOneBatch(const std::vector<TxFunction>& fns) {
    testing::HeldWrite held(*db_, [](Status) {});
    std::vector<std::promise<Status>> outcomes(fns.size());
    for (size_t i = 0; i < fns.size(); ++i) {
      db_->WriteAsync(fns[i], [&outcomes, i](Status s) { outcomes[i].set_value(std::move(s)); });
    }
    held.Release();
    std::vector<Status> out;
    for (auto& o : outcomes) out.push_back(o.get_future().get());
    return out;
  }

  bool HasSetting(const std::string& key) {
    bool found = false;
    EXPECT_TRUE(db_->Read([&](Tx& tx) {
                     found = tx.GetSetting(key).has_value();
                     return Status::Ok();
                   }).ok());
    return found;
  }

  orders::OrderContext Ctx(Tx& tx) {
    return orders::OrderContext{tx.catalog(), tx.inventory(), tx.orders(), clock_.NowMs(), kTtlMs,
                                "test"};
  }

  // One product with SKU `sku`, stocked at two shipping locations.
  std::vector<int64_t> Seed(const std::string& sku, int64_t at_first, int64_t at_second) {
    std::vector<int64_t> ids;
    Status s = db_->Write([&](Tx& tx) -> Status {
      catalog::Product p;
      p.name = "Product " + sku;
      p.variants.push_back({sku, 0, {1000, "MYR"}, {}, "", true});
      auto created = catalog::CreateProduct(tx.catalog(), p, clock_.NowMs());
      if (!created.ok()) return created.status();
      for (int i = 0; i < 2; ++i) {
        inventory::Location l;
        l.code = sku + "-L" + std::to_string(i);
        l.name = l.code;
        l.ships_orders = true;
        l.pickup = true;
        ids.push_back(tx.inventory().InsertLocation(l));
        int64_t units = i == 0 ? at_first : at_second;
        if (units > 0) {
          auto r = inventory::Adjust(tx.inventory(),
                                     {sku, ids.back(), units, inventory::MovementReason::kReceipt,
                                      "seed"},
                                     clock_.NowMs());
          if (!r.ok()) return r.status();
        }
      }
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.message();
    return ids;
  }

  // A new SKU `sku` with 5 units at each of two locations, 3 of them held at the first; returns
  // that location.
  int64_t HeldAtFirst(const std::string& sku) {
    const int64_t loc = Seed(sku, 5, 5)[0];
    EXPECT_TRUE(db_->Write([&](Tx& tx) {
                     return tx.inventory().TryReserve(sku, loc, 3)
                                ? Status::Ok()
                                : Status(Code::kConflict, "not reserved");
                   }).ok());
    return loc;
  }

  // A write that moves `qty` held units of `sku` at `loc` to allocated, refused when it cannot.
  static TxFunction MoveHeld(const std::string& sku, int64_t loc, int64_t qty) {
    return [sku, loc, qty](Tx& tx) {
      return tx.inventory().TryReservedToAllocated(sku, loc, qty)
                 ? Status::Ok()
                 : Status(Code::kConflict, "not moved");
    };
  }

  // {reserved, allocated} of `sku` at `loc`, as a reader sees them.
  std::pair<int64_t, int64_t> HeldAndAllocated(const std::string& sku, int64_t loc) {
    std::pair<int64_t, int64_t> out{-1, -1};
    EXPECT_TRUE(db_->Read([&](Tx& tx) {
                     if (auto level = tx.inventory().Level(sku, loc)) {
                       out = {level->reserved, level->allocated};
                     }
                     return Status::Ok();
                   }).ok());
    return out;
  }

  int64_t Available(const std::string& sku) {
    int64_t total = 0;
    EXPECT_TRUE(db_->Read([&](Tx& tx) {
                     for (const auto& l : tx.inventory().Levels(sku)) total += l.Available();
                     return Status::Ok();
                   }).ok());
    return total;
  }

  // The quantities of an order's allocations, in the order they were made.
  std::vector<int64_t> AllocatedQuantities(int64_t order_id) {
    std::vector<int64_t> quantities;
    EXPECT_TRUE(db_->Read([&](Tx& tx) {
                     for (const auto& a : tx.inventory().AllocationsOfOrder(order_id)) {
                       quantities.push_back(a.quantity);
                     }
                     return Status::Ok();
                   }).ok());
    return quantities;
  }

  std::vector<std::string> Discrepancies() {
    std::vector<std::string> found;
    EXPECT_TRUE(db_->Read([&](Tx& tx) {
                     found = inventory::FindDiscrepancies(tx.inventory().Totals());
                     return Status::Ok();
                   }).ok());
    return found;
  }

  int64_t NewCart() {
    int64_t id = 0;
    EXPECT_TRUE(db_->Write([&](Tx& tx) {
                     auto ctx = Ctx(tx);
                     id = orders::CreateCart(ctx, std::nullopt, "hash").id;
                     return Status::Ok();
                   }).ok());
    return id;
  }

  Status Add(int64_t cart, const std::string& sku, int64_t qty) {
    return db_->Write([&](Tx& tx) {
      auto ctx = Ctx(tx);
      return orders::AddItem(ctx, cart, sku, qty);
    });
  }

  // A guest's delivery checkout.
  static orders::CheckoutRequest GuestCheckout(const std::string& email) {
    orders::CheckoutRequest req;
    req.secrets = orders::NewOrderSecrets(1);
    req.email = email;
    req.address = orders::Address{"A", "1 Jalan", "", "KL", "50000", "MY", ""};
    return req;
  }

  Result<orders::Order> Checkout(int64_t cart, const orders::CheckoutRequest& req) {
    std::optional<orders::Order> order;
    Status s = db_->Write([&](Tx& tx) -> Status {
      auto ctx = Ctx(tx);
      auto r = orders::Checkout(ctx, cart, req);
      if (!r.ok()) return r.status();
      order = std::move(r.value());
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return std::move(*order);
  }
  Result<orders::Order> Checkout(int64_t cart, const std::string& email = "shopper@example.my") {
    return Checkout(cart, GuestCheckout(email));
  }

  // A cart with `qty` of `sku`, checked out.
  Result<orders::Order> PlaceOrder(const std::string& sku, int64_t qty,
                                   const std::string& email = "shopper@example.my") {
    int64_t cart = NewCart();
    Status added = Add(cart, sku, qty);
    if (!added.ok()) return added;
    return Checkout(cart, email);
  }

  testing::TempDir dir_{"tandem-test"};  // declared first: removed after the database closes
  testing::FakeClock clock_;
  std::unique_ptr<Database> db_;
};

TEST_F(SqliteDatabaseTest, HoldCheckoutShipKeepsCountersEqualToTheirSums) {
  Seed("SKU-A", 3, 2);
  EXPECT_EQ(Available("SKU-A"), 5);
  int64_t cart = NewCart();
  ASSERT_TRUE(Add(cart, "SKU-A", 4).ok());
  EXPECT_EQ(Available("SKU-A"), 1);
  EXPECT_TRUE(Discrepancies().empty());
  Result<orders::Order> order = Checkout(cart);
  ASSERT_TRUE(order.ok()) << order.status().message();
  EXPECT_EQ(order->totals.total.amount, 4000 + 800);
  EXPECT_EQ(order->number.rfind("TD-", 0), 0u);
  EXPECT_EQ(Available("SKU-A"), 1);
  EXPECT_TRUE(Discrepancies().empty());

  for (auto to : {orders::OrderStatus::kProcessing, orders::OrderStatus::kReady,
                  orders::OrderStatus::kShipped}) {
    Status s = db_->Write([&](Tx& tx) {
      auto ctx = Ctx(tx);
      return orders::TransitionOrder(ctx, order->id, {to, "", "", ""}).status();
    });
    ASSERT_TRUE(s.ok()) << s.message();
  }
  int64_t on_hand = 0;
  ASSERT_TRUE(db_->Read([&](Tx& tx) {
                   for (const auto& l : tx.inventory().Levels("SKU-A")) {
                     on_hand += l.on_hand;
                     EXPECT_EQ(l.allocated, 0);
                   }
                   return Status::Ok();
                 }).ok());
  EXPECT_EQ(on_hand, 1);
  EXPECT_TRUE(Discrepancies().empty());
}

// The order's token and tracking code are made before the write (off the writer thread) and are
// the ones the order keeps; a checkout without them is refused and changes nothing.
TEST_F(SqliteDatabaseTest, AnOrderKeepsTheSecretsMadeBeforeItsWrite) {
  Seed("SKU-S", 2, 0);
  int64_t cart = NewCart();
  ASSERT_TRUE(Add(cart, "SKU-S", 1).ok());
  orders::CheckoutRequest bare = GuestCheckout("s@example.my");
  bare.secrets = {};
  EXPECT_EQ(Checkout(cart, bare).status().code(), Code::kInternal);
  EXPECT_EQ(Available("SKU-S"), 1);  // the cart still holds its unit

  orders::CheckoutRequest req = GuestCheckout("s@example.my");
  Result<orders::Order> placed = Checkout(cart, req);
  ASSERT_TRUE(placed.ok()) << placed.status().message();
  EXPECT_EQ(placed->access_token, req.secrets.access_token);
  ASSERT_TRUE(db_->Read([&](Tx& tx) {
                   std::optional<orders::Order> stored = tx.orders().FindOrder(placed->id);
                   EXPECT_EQ(stored->tracking_code, req.secrets.tracking_code);
                   EXPECT_EQ(stored->access_token_hash, HashToken(req.secrets.access_token));
                   return Status::Ok();
                 }).ok());
}

TEST_F(SqliteDatabaseTest, RefusesAHoldBeyondAvailableAndChangesNothing) {
  Seed("SKU-B", 1, 1);
  int64_t cart = NewCart();
  Status s = Add(cart, "SKU-B", 3);
  EXPECT_EQ(s.code(), Code::kInsufficientStock);
  EXPECT_EQ(Available("SKU-B"), 2);
  ASSERT_TRUE(db_->Read([&](Tx& tx) {
                   EXPECT_TRUE(tx.orders().FindCart(cart)->lines.empty());
                   EXPECT_TRUE(tx.inventory().HoldsOfCart(cart).empty());
                   return Status::Ok();
                 }).ok());
}

TEST_F(SqliteDatabaseTest, ExpiredHoldsAreReleasedAndCheckoutReholdsWhenItCan) {
  Seed("SKU-C", 2, 0);
  int64_t cart = NewCart();
  ASSERT_TRUE(Add(cart, "SKU-C", 2).ok());
  EXPECT_EQ(Available("SKU-C"), 0);
  clock_.Advance(kTtlMs + 1);
  // Another shopper's hold sweeps the expired one first and takes one unit.
  int64_t other = NewCart();
  ASSERT_TRUE(Add(other, "SKU-C", 1).ok());
  EXPECT_TRUE(Discrepancies().empty());
  Result<orders::Order> refused = Checkout(cart);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Code::kHoldExpired);
  ASSERT_TRUE(Checkout(other).ok());
  EXPECT_TRUE(Discrepancies().empty());
}

// Holds are found by expiry, not by SKU (migration 12): a decision gives back every SKU's
// expired holds, oldest first, and past the limit still the decided SKU's own.
TEST_F(SqliteDatabaseTest, ADecisionReleasesTheExpiredHoldsOfEverySku) {
  Seed("SKU-E1", 1, 0);
  Seed("SKU-E2", 1, 0);
  Seed("SKU-E3", 1, 0);
  for (const char* sku : {"SKU-E1", "SKU-E2", "SKU-E3"}) {
    ASSERT_TRUE(Add(NewCart(), sku, 1).ok());
    clock_.Advance(1);  // oldest first: E1, E2, E3
  }
  clock_.Advance(kTtlMs);
  // A limit of one: E1's hold, the oldest, goes first; then E3's own, as E3 is decided.
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   inventory::Allocator allocator(tx.inventory(), clock_.NowMs());
                   EXPECT_EQ(allocator.ReleaseExpiredHolds("SKU-E3", 1), 2);
                   return Status::Ok();
                 }).ok());
  EXPECT_EQ(Available("SKU-E1"), 1);
  EXPECT_EQ(Available("SKU-E2"), 0);
  EXPECT_EQ(Available("SKU-E3"), 1);
  // Without a limit in the way, adding E3 gives E2's expired unit back too.
  ASSERT_TRUE(Add(NewCart(), "SKU-E3", 1).ok());
  EXPECT_EQ(Available("SKU-E2"), 1);
  EXPECT_EQ(Available("SKU-E3"), 0);
  EXPECT_TRUE(Discrepancies().empty());
}

// A hold's id is its cart's id times kHoldsPerCartMax plus its number in the cart (migration
// 13): a cart's holds are a range of ids, in the order they were placed.
TEST_F(SqliteDatabaseTest, AHoldsIdCarriesItsCart) {
  Seed("SKU-H1", 5, 0);
  Seed("SKU-H2", 5, 0);
  int64_t first = NewCart();
  int64_t second = NewCart();
  ASSERT_TRUE(Add(first, "SKU-H1", 1).ok());
  ASSERT_TRUE(Add(second, "SKU-H1", 1).ok());
  ASSERT_TRUE(Add(first, "SKU-H2", 2).ok());
  ASSERT_TRUE(Add(first, "SKU-H1", 1).ok());  // one more unit: a third hold of the first cart
  auto ids_of = [&](int64_t cart) {
    std::vector<int64_t> ids;
    EXPECT_TRUE(db_->Read([&](Tx& tx) {
                     for (const auto& h : tx.inventory().HoldsOfCart(cart)) {
                       EXPECT_EQ(h.cart_id, cart);
                       ids.push_back(h.id);
                     }
                     return Status::Ok();
                   }).ok());
    return ids;
  };
  const int64_t base = first * kHoldsPerCartMax;
  EXPECT_EQ(ids_of(first), (std::vector<int64_t>{base + 1, base + 2, base + 3}));
  EXPECT_EQ(ids_of(second), (std::vector<int64_t>{second * kHoldsPerCartMax + 1}));
  // Fewer units: the line's hold is released and one placed again, with the next number.
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   auto ctx = Ctx(tx);
                   std::optional<orders::Cart> cart = tx.orders().FindCart(first);
                   return orders::SetItemQuantity(ctx, *cart, "SKU-H2", 1);
                 }).ok());
  EXPECT_EQ(ids_of(first), (std::vector<int64_t>{base + 1, base + 3, base + 4}));
  EXPECT_TRUE(Discrepancies().empty());
}

TEST_F(SqliteDatabaseTest, ACartThatUsedUpItsHoldNumbersHoldsNothingMore) {
  Seed("SKU-H3", 5, 0);
  Seed("SKU-H4", 5, 0);
  int64_t cart = NewCart();
  ASSERT_TRUE(Add(cart, "SKU-H3", 1).ok());
  {
    // As if the cart had placed all its holds: its one hold takes the last number.
    auto conn = Connection::Open(dir_.File("tandem.db"), false);
    conn->ExecScript(("UPDATE holds SET id = " +
                      std::to_string((cart + 1) * kHoldsPerCartMax) +
                      " WHERE cart_id = " + std::to_string(cart))
                         .c_str());
  }
  Status refused = Add(cart, "SKU-H4", 1);
  EXPECT_EQ(refused.code(), Code::kConflict) << refused.message();
  EXPECT_EQ(Available("SKU-H4"), 5);
  // The next cart's range is its own.
  int64_t next = NewCart();
  ASSERT_TRUE(Add(next, "SKU-H4", 1).ok());
  ASSERT_TRUE(db_->Read([&](Tx& tx) {
                   EXPECT_EQ(tx.inventory().HoldsOfCart(cart).size(), 1u);
                   EXPECT_EQ(tx.inventory().HoldsOfCart(next).size(), 1u);
                   return Status::Ok();
                 }).ok());
  EXPECT_TRUE(Discrepancies().empty());
}

TEST_F(SqliteDatabaseTest, CancellationGivesTheUnitsBack) {
  Seed("SKU-D", 5, 0);
  Result<orders::Order> order = PlaceOrder("SKU-D", 5);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(Available("SKU-D"), 0);
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   auto ctx = Ctx(tx);
                   return orders::TransitionOrder(
                              ctx, order->id, {orders::OrderStatus::kCancelled, "", "", ""})
                       .status();
                 }).ok());
  EXPECT_EQ(Available("SKU-D"), 5);
  EXPECT_TRUE(Discrepancies().empty());
}

TEST_F(SqliteDatabaseTest, GroupCommitIsolatesAFailingWriteFromTheOthers) {
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      Status s = db_->Write([&](Tx& tx) -> Status {
        tx.PutSetting("k" + std::to_string(i), "v");
        if (i % 4 == 0) return Status(Code::kConflict, "refused on purpose");
        return Status::Ok();
      });
      (s.ok() ? ok : failed)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 12);
  EXPECT_EQ(failed.load(), 4);
  ASSERT_TRUE(db_->Read([&](Tx& tx) {
                   for (int i = 0; i < 16; ++i) {
                     EXPECT_EQ(tx.GetSetting("k" + std::to_string(i)).has_value(), i % 4 != 0)
                         << i;
                   }
                   return Status::Ok();
                 }).ok());
}

// A write that counts its runs and sets `key`; refused after setting it when `refuse`.
TxFunction CountedPut(const std::string& key, std::atomic<int>& runs, bool refuse = false) {
  return [key, &runs, refuse](Tx& tx) {
    ++runs;
    tx.PutSetting(key, "1");
    return refuse ? Status(Code::kConflict, "refused after writing") : Status::Ok();
  };
}

// Jobs of a batch run without savepoints of their own; a refusal that changed nothing needs no
// undoing, and the others of its batch run once.
TEST_F(SqliteDatabaseTest, AWriteRefusedBeforeChangingAnythingCostsItsBatchNothing) {
  std::atomic<int> runs_a{0}, runs_c{0};
  std::vector<Status> outcomes = RunAsOneBatch({
      CountedPut("a", runs_a),
      [](Tx& tx) {
        (void)tx.GetSetting("a");
        return Status(Code::kConflict, "refused before writing");
      },
      CountedPut("c", runs_c),
  });
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_EQ(outcomes[1].code(), Code::kConflict);
  EXPECT_TRUE(outcomes[2].ok());
  EXPECT_EQ(runs_a.load(), 1);
  EXPECT_EQ(runs_c.load(), 1);
  EXPECT_TRUE(HasSetting("a"));
  EXPECT_TRUE(HasSetting("c"));
}

// A refusal after a change is undone with the whole transaction: the batch runs again with a
// savepoint per job, and so does the next batch, where the same kind of refusal is rolled back
// alone.
TEST_F(SqliteDatabaseTest, AWriteRefusedAfterChangingSomethingIsUndoneAndTheOthersKept) {
  std::atomic<int> runs_a{0}, runs_b{0}, runs_c{0};
  std::vector<Status> outcomes = RunAsOneBatch(
      {CountedPut("a", runs_a), CountedPut("b", runs_b, true), CountedPut("c", runs_c)});
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_EQ(outcomes[1].code(), Code::kConflict);
  EXPECT_TRUE(outcomes[2].ok());
  EXPECT_EQ(runs_a.load(), 2);  // undone with b, then run again
  EXPECT_EQ(runs_b.load(), 2);
  EXPECT_EQ(runs_c.load(), 1);  // only after the undo
  EXPECT_TRUE(HasSetting("a"));
  EXPECT_FALSE(HasSetting("b"));
  EXPECT_TRUE(HasSetting("c"));

  std::atomic<int> runs_d{0}, runs_e{0};
  outcomes = RunAsOneBatch({CountedPut("d", runs_d), CountedPut("e", runs_e, true)});
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_EQ(outcomes[1].code(), Code::kConflict);
  EXPECT_EQ(runs_d.load(), 1);
  EXPECT_EQ(runs_e.load(), 1);
  EXPECT_TRUE(HasSetting("d"));
  EXPECT_FALSE(HasSetting("e"));
}

// An insert that fails (a CHECK) fails its job after that job changed something: the batch is
// undone and runs again with a savepoint per job, and only that job fails.
TEST_F(SqliteDatabaseTest, AnInsertThatFailsIsUndoneAloneAndTheOthersKept) {
  std::vector<int64_t> locations = Seed("SKU-W", 5, 0);
  auto order = PlaceOrder("SKU-W", 1);
  ASSERT_TRUE(order.ok()) << order.status().message();
  auto allocate = [&](const std::string& key, int64_t quantity, std::atomic<int>& runs) {
    return [&, key, quantity](Tx& tx) {
      ++runs;
      tx.PutSetting(key, "1");
      tx.inventory().InsertAllocation({0, order->id, order->lines[0].id, "SKU-W", locations[0],
                                       quantity, true, std::nullopt, false});
      return Status::Ok();
    };
  };
  std::atomic<int> runs_a{0}, runs_b{0}, runs_c{0};
  std::vector<Status> outcomes =
      RunAsOneBatch({allocate("a", 2, runs_a), allocate("b", 0, runs_b),  // CHECK (quantity > 0)
                     allocate("c", 3, runs_c)});
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0].message();
  EXPECT_EQ(outcomes[1].code(), Code::kInternal);
  EXPECT_TRUE(outcomes[2].ok()) << outcomes[2].message();
  EXPECT_EQ(runs_a.load(), 2);  // undone with the batch, then run again
  EXPECT_EQ(runs_b.load(), 2);
  EXPECT_EQ(runs_c.load(), 1);  // not run before the undo
  EXPECT_TRUE(HasSetting("a"));
  EXPECT_FALSE(HasSetting("b"));
  EXPECT_TRUE(HasSetting("c"));
  EXPECT_EQ(AllocatedQuantities(order->id), (std::vector<int64_t>{1, 2, 3}));  // checkout, a, c
}

// A write refused after an insert changed something: its batch is undone and run again, and its
// row is never written.
TEST_F(SqliteDatabaseTest, AWriteRefusedAfterAnInsertLeavesNoRow) {
  std::vector<int64_t> locations = Seed("SKU-R", 5, 0);
  auto order = PlaceOrder("SKU-R", 1);
  ASSERT_TRUE(order.ok()) << order.status().message();
  std::atomic<int> runs_a{0}, runs_b{0};
  auto allocate = [&](int64_t quantity, bool refuse, std::atomic<int>& runs) {
    return [&, quantity, refuse](Tx& tx) {
      ++runs;
      tx.inventory().InsertAllocation({0, order->id, order->lines[0].id, "SKU-R", locations[0],
                                       quantity, true, std::nullopt, false});
      return refuse ? Status(Code::kConflict, "refused after inserting") : Status::Ok();
    };
  };
  std::vector<Status> outcomes =
      RunAsOneBatch({allocate(2, false, runs_a), allocate(7, true, runs_b)});
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0].message();
  EXPECT_EQ(outcomes[1].code(), Code::kConflict);
  EXPECT_EQ(runs_a.load(), 2);  // undone with b, then run again
  EXPECT_EQ(runs_b.load(), 2);
  EXPECT_EQ(AllocatedQuantities(order->id), (std::vector<int64_t>{1, 2}));  // never b's 7
}

// Writes queued without waiting (as the flash-sale handlers do) span several batches; each is
// answered once committed, on a storage thread, and sees the writes queued before it.
TEST_F(SqliteDatabaseTest, AsyncWritesAreAnsweredAfterTheirCommitInQueueOrder) {
  constexpr int kWrites = 3 * kWriteBatchMax;
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0;
  std::vector<int64_t> seen(kWrites, -1);
  std::vector<bool> visible(kWrites, false);
  const std::thread::id caller = std::this_thread::get_id();
  bool answered_elsewhere = true;
  for (int i = 0; i < kWrites; ++i) {
    db_->WriteAsync(
        [i, &seen](Tx& tx) -> Status {
          std::optional<std::string> count = tx.GetSetting("count");
          seen[i] = count ? std::stoll(*count) : 0;
          tx.PutSetting("count", std::to_string(seen[i] + 1));
          return Status::Ok();
        },
        [&, i](Status s) {
          EXPECT_TRUE(s.ok()) << s.message();
          // Committed: a fresh snapshot shows at least this write.
          EXPECT_TRUE(db_->Read([&](Tx& tx) {
                           visible[i] = std::stoll(tx.GetSetting("count").value_or("0")) > i;
                           return Status::Ok();
                         }).ok());
          std::lock_guard lock(mu);
          answered_elsewhere = answered_elsewhere && std::this_thread::get_id() != caller;
          ++answered;
          cv.notify_all();
        });
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return answered == kWrites; }));
  EXPECT_TRUE(answered_elsewhere);
  for (int i = 0; i < kWrites; ++i) {
    EXPECT_EQ(seen[i], i);
    EXPECT_TRUE(visible[i]) << i;
  }
}

// Writes queued behind a held writer, each counting itself and noting, through a reader, the
// count the last commit left: writes that note the same count shared a commit. A queue of
// `waiting` writes gives its batches' sizes in order.
std::vector<int> BatchSizes(Database& db, int waiting) {
  std::vector<int64_t> committed(waiting, -1);
  std::vector<TxFunction> fns;
  for (int i = 0; i < waiting; ++i) {
    fns.push_back([&db, &committed, i](Tx& tx) -> Status {
      std::optional<std::string> count = tx.GetSetting("count");
      tx.PutSetting("count", std::to_string(count ? std::stoll(*count) + 1 : 1));
      return db.Read([&](Tx& reader) {
        committed[i] = std::stoll(reader.GetSetting("count").value_or("0"));
        return Status::Ok();
      });
    });
  }
  testing::HeldWrite held(db, [](Status) {});
  std::vector<std::promise<Status>> outcomes(fns.size());
  for (size_t i = 0; i < fns.size(); ++i) {
    db.WriteAsync(fns[i], [&outcomes, i](Status s) { outcomes[i].set_value(std::move(s)); });
  }
  held.Release();
  for (auto& o : outcomes) EXPECT_TRUE(o.get_future().get().ok());
  std::vector<int> sizes;
  for (int i = 0; i < waiting; ++i) {
    if (i == 0 || committed[i] != committed[i - 1]) sizes.push_back(0);
    ++sizes.back();
  }
  return sizes;
}

// kWriteBatchMax writes to a commit while few wait; a deep queue is taken a quarter at a time, at
// most kDeepWriteBatchMax to a commit.
TEST_F(SqliteDatabaseTest, ADeepQueueIsCommittedInLargerBatches) {
  EXPECT_EQ(BatchSizes(*db_, 2 * kWriteBatchMax + 10),
            (std::vector<int>{kWriteBatchMax, kWriteBatchMax, 10}));
  // 3,000 waiting: 750, then a quarter of the 2,250 left (562), 422, 316, then 256 to the end.
  EXPECT_EQ(BatchSizes(*db_, 3000),
            (std::vector<int>{750, 562, 422, 316, 256, 256, 256, 182}));
  db_.reset();
  auto deep = OpenSqlite({.path = dir_.File("tandem.db"), .write_queue_max = 8192});
  ASSERT_TRUE(deep.ok()) << deep.status().message();
  static_assert(kDeepWriteBatchMax == 1024);
  EXPECT_EQ(BatchSizes(*deep.value(), 6000),
            (std::vector<int>{1024, 1024, 988, 741, 555, 417, 312, 256, 256, 256, 171}));
}

// Past kWriteQueueMax waiting writes, a write is refused at once (503 upstream), not queued.
TEST_F(SqliteDatabaseTest, AFullWriteQueueRefusesAtOnceAndTheRestComplete) {
  std::atomic<int> ok{0}, refused{0};
  auto count = [&](Status s) {
    if (s.ok()) {
      ok++;
    } else if (s.code() == Code::kUnavailable) {
      refused++;
    }
  };
  testing::HeldWrite held(*db_, count);  // the queue then fills
  const int extra = 10;
  for (size_t i = 0; i < kWriteQueueMax + extra; ++i) {
    db_->WriteAsync([](Tx& tx) {
      tx.PutSetting("x", "y");
      return Status::Ok();
    }, count);
  }
  EXPECT_EQ(refused.load(), extra);  // answered before WriteAsync returned
  held.Release();
  for (int i = 0; i < 6000 && ok.load() < static_cast<int>(kWriteQueueMax) + 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(ok.load(), static_cast<int>(kWriteQueueMax) + 1);
}

// A refused write changed nothing, so its answer does not wait for the sync that makes the kept
// writes of its batch durable (a sold-out SKU's 409 comes sooner): it is answered before them.
TEST_F(SqliteDatabaseTest, ARefusedWriteIsAnsweredBeforeTheKeptWritesOfItsBatch) {
  // Shared with the answers, which may still come if an assertion ends the test early.
  struct Answers {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> names;
  };
  auto answers = std::make_shared<Answers>();
  auto answer = [answers](std::string name) {
    return [answers, name](Status) {
      std::lock_guard lock(answers->mu);
      answers->names.push_back(name);
      answers->cv.notify_all();
    };
  };
  testing::HeldWrite held(*db_, answer("held"));
  db_->WriteAsync([](Tx& tx) {
    tx.PutSetting("kept", "1");
    return Status::Ok();
  }, answer("kept"));
  db_->WriteAsync([](Tx&) { return Status(Code::kInsufficientStock, "sold out"); },
                  answer("refused"));
  held.Release();
  std::unique_lock lock(answers->mu);
  ASSERT_TRUE(answers->cv.wait_for(lock, std::chrono::seconds(60),
                                   [&] { return answers->names.size() == 3; }));
  auto at = [&](const std::string& name) {
    return std::find(answers->names.begin(), answers->names.end(), name) -
           answers->names.begin();
  };
  EXPECT_LT(at("refused"), at("kept"));
}

TEST_F(SqliteDatabaseTest, AThrowingWriteIsRolledBackAndReportedAsInternal) {
  Status s = db_->Write([&](Tx& tx) -> Status {
    tx.PutSetting("half", "done");
    TANDEM_CHECK(false);
    return Status::Ok();
  });
  EXPECT_EQ(s.code(), Code::kInternal);
  ASSERT_TRUE(db_->Read([&](Tx& tx) {
                   EXPECT_FALSE(tx.GetSetting("half").has_value());
                   return Status::Ok();
                 }).ok());
}

// The writer caches variants, locations and which SKUs are in a sale event (reference_cache.h).
// Each read below runs in a write, where the cache is used.
class ReferenceCacheTest : public SqliteDatabaseTest {
 protected:
  int64_t PriceInWrite(const std::string& sku) {
    int64_t price = -1;
    EXPECT_TRUE(db_->Write([&](Tx& tx) {
                     auto v = tx.catalog().FindVariantWithProduct(sku);
                     if (v) price = v->variant.price.amount;
                     return Status::Ok();
                   }).ok());
    return price;
  }
  std::string FirstLocationNameInWrite() {
    std::string name;
    EXPECT_TRUE(db_->Write([&](Tx& tx) {
                     name = tx.inventory().Locations().at(0).name;
                     return Status::Ok();
                   }).ok());
    return name;
  }
  bool InEventInWrite(const std::string& sku) {
    bool found = false;
    EXPECT_TRUE(db_->Write([&](Tx& tx) {
                     found = tx.inventory().ActiveEventSku(sku, clock_.NowMs()).has_value();
                     return Status::Ok();
                   }).ok());
    return found;
  }
  void SetPrice(Tx& tx, const std::string& sku, int64_t minor) {
    auto v = tx.catalog().FindVariant(sku);
    ASSERT_TRUE(v.has_value());
    auto p = tx.catalog().FindProduct(v->product_id);
    ASSERT_TRUE(p.has_value());
    for (auto& variant : p->variants) variant.price.amount = minor;
    tx.catalog().SaveProduct(*p);
  }
};

TEST_F(ReferenceCacheTest, AVariantChangedByAWriteIsSeenByTheNextOne) {
  Seed("SKU-C1", 1, 0);
  EXPECT_EQ(PriceInWrite("SKU-C1"), 1000);
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   SetPrice(tx, "SKU-C1", 1500);
                   return Status::Ok();
                 }).ok());
  EXPECT_EQ(PriceInWrite("SKU-C1"), 1500);
}

TEST_F(ReferenceCacheTest, WhatAFailedWriteReadAfterChangingItIsNotKept) {
  Seed("SKU-C2", 1, 0);
  EXPECT_EQ(PriceInWrite("SKU-C2"), 1000);
  Status s = db_->Write([&](Tx& tx) -> Status {
    SetPrice(tx, "SKU-C2", 2500);
    tx.inventory().InsertLocation({0, "GONE", "Gone", inventory::LocationKind::kStore});
    // Read back inside the failing write: these must not outlive its rollback.
    EXPECT_EQ(tx.catalog().FindVariantWithProduct("SKU-C2")->variant.price.amount, 2500);
    EXPECT_EQ(tx.inventory().Locations().back().code, "GONE");
    return Status(Code::kConflict, "changed my mind");
  });
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(PriceInWrite("SKU-C2"), 1000);
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   EXPECT_EQ(tx.inventory().Locations().size(), 2u);
                   return Status::Ok();
                 }).ok());
}

TEST_F(ReferenceCacheTest, ANewSaleEventOfACachedSkuIsSeen) {
  Seed("SKU-C3", 5, 0);
  EXPECT_FALSE(InEventInWrite("SKU-C3"));
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   inventory::SaleEvent e{0, "12.12", clock_.NowMs() - 1, clock_.NowMs() + 60'000,
                                          1, clock_.NowMs()};
                   tx.inventory().InsertSaleEvent(e, {{0, "SKU-C3", 3, 0}});
                   return Status::Ok();
                 }).ok());
  EXPECT_TRUE(InEventInWrite("SKU-C3"));
}

TEST_F(ReferenceCacheTest, ChangesCommittedByAnotherProcessAreSeen) {
  Seed("SKU-C4", 5, 0);
  EXPECT_EQ(PriceInWrite("SKU-C4"), 1000);
  EXPECT_EQ(FirstLocationNameInWrite(), "SKU-C4-L0");
  EXPECT_FALSE(InEventInWrite("SKU-C4"));
  // Another connection stands for another process (a `tandem` command): no update hook of ours.
  auto other = Connection::Open(dir_.File("tandem.db"), false);
  other->ExecScript(
      "UPDATE variants SET price_amount = 4000 WHERE sku = 'SKU-C4';"
      "UPDATE locations SET name = 'Renamed' WHERE code = 'SKU-C4-L0';"
      "INSERT INTO sale_events (name, starts_ms, ends_ms, per_customer_limit, created_ms) "
      "  VALUES ('other', 0, 9000000000000, 1, 0);"
      "INSERT INTO sale_event_skus (event_id, sku, ring_fenced) "
      "  VALUES (last_insert_rowid(), 'SKU-C4', 2);");
  EXPECT_EQ(PriceInWrite("SKU-C4"), 4000);
  EXPECT_EQ(FirstLocationNameInWrite(), "Renamed");
  EXPECT_TRUE(InEventInWrite("SKU-C4"));
}

TEST_F(SqliteDatabaseTest, TheLedgerIsAppendOnly) {
  Seed("SKU-E", 1, 0);
  auto conn = Connection::Open(dir_.File("tandem.db"), false);
  EXPECT_THROW(conn->ExecScript("UPDATE movements SET delta = 5"), SqliteError);
  EXPECT_THROW(conn->ExecScript("DELETE FROM movements"), SqliteError);
}

TEST_F(SqliteDatabaseTest, ConditionalReserveNeverPromisesMoreThanAvailable) {
  Seed("SKU-F", 3, 0);
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   auto& inv = tx.inventory();
                   int64_t loc = inv.Levels("SKU-F")[0].location_id;
                   EXPECT_TRUE(inv.TryReserve("SKU-F", loc, 2));
                   EXPECT_FALSE(inv.TryReserve("SKU-F", loc, 2));
                   EXPECT_TRUE(inv.TryReserve("SKU-F", loc, 1));
                   EXPECT_FALSE(inv.TryUnreserve("SKU-F", loc, 4));
                   EXPECT_TRUE(inv.TryUnreserve("SKU-F", loc, 3));
                   return Status::Ok();
                 }).ok());
}

TEST_F(SqliteDatabaseTest, AdjustmentMayNotUncoverCommittedUnits) {
  std::vector<int64_t> locs = Seed("SKU-G", 4, 0);
  int64_t cart = NewCart();
  ASSERT_TRUE(Add(cart, "SKU-G", 3).ok());
  Status s = db_->Write([&](Tx& tx) {
    return inventory::Adjust(tx.inventory(),
                             {"SKU-G", locs[0], -2, inventory::MovementReason::kAdjustment, "x"},
                             clock_.NowMs())
        .status();
  });
  EXPECT_EQ(s.code(), Code::kStockCommitted);
  EXPECT_TRUE(Discrepancies().empty());
}

TEST_F(SqliteDatabaseTest, OrdersOfOneCustomerWithinHalfAnHourAreRelated) {
  Seed("SKU-H", 5, 0);
  Result<orders::Order> first = PlaceOrder("SKU-H", 1);
  ASSERT_TRUE(first.ok());
  clock_.Advance(10 * 60 * 1000);
  Result<orders::Order> second = PlaceOrder("SKU-H", 1);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->related_order_ids, std::vector<int64_t>{first->id});
  clock_.Advance(31 * 60 * 1000);
  Result<orders::Order> third = PlaceOrder("SKU-H", 1);
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->related_order_ids.empty());
}

TEST_F(SqliteDatabaseTest, AnOrderPlacedBeforeARestartIsRelatedToTheNextOne) {
  Seed("SKU-R1", 5, 0);
  Result<orders::Order> first = PlaceOrder("SKU-R1", 1);
  ASSERT_TRUE(first.ok());
  db_.reset();
  SetUp();
  Result<orders::Order> second = PlaceOrder("SKU-R1", 1);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->related_order_ids, std::vector<int64_t>{first->id});
}

TEST_F(SqliteDatabaseTest, AnOrderRolledBackIsNeverTakenForTheShoppersLastOne) {
  Seed("SKU-R2", 5, 0);
  int64_t again = NewCart();
  ASSERT_TRUE(Add(again, "SKU-R2", 1).ok());
  int64_t undone_id = 0;
  Status undone = db_->Write([&](Tx& tx) -> Status {
    auto ctx = Ctx(tx);
    auto r = orders::Checkout(ctx, again, GuestCheckout("again@example.my"));
    if (!r.ok()) return r.status();
    undone_id = r->id;
    return Status(Code::kConflict, "undone after the order's insert");
  });
  ASSERT_EQ(undone.code(), Code::kConflict);
  // Another shopper's order takes the id the undone order had.
  Result<orders::Order> stranger = PlaceOrder("SKU-R2", 1, "stranger@example.my");
  ASSERT_TRUE(stranger.ok());
  ASSERT_EQ(stranger->id, undone_id);
  Result<orders::Order> placed = Checkout(again, "again@example.my");
  ASSERT_TRUE(placed.ok()) << placed.status().message();
  EXPECT_TRUE(placed->related_order_ids.empty());
}

TEST_F(SqliteDatabaseTest, AnOrderInABatchRunAgainIsRelatedToTheShoppersLastOne) {
  Seed("SKU-R4", 5, 0);
  Result<orders::Order> first = PlaceOrder("SKU-R4", 1, "twice@example.my");
  ASSERT_TRUE(first.ok());
  int64_t cart = NewCart();
  ASSERT_TRUE(Add(cart, "SKU-R4", 1).ok());
  std::optional<orders::Order> second;
  // The second job changes something and fails: the batch is undone and runs again, each job
  // in a savepoint; the checkout's first run must leave nothing behind.
  std::vector<Status> outcomes = RunAsOneBatch({
      [&](Tx& tx) -> Status {
        auto ctx = Ctx(tx);
        auto r = orders::Checkout(ctx, cart, GuestCheckout("twice@example.my"));
        if (!r.ok()) return r.status();
        second = std::move(r.value());
        return Status::Ok();
      },
      [&](Tx& tx) -> Status {
        auto ctx = Ctx(tx);
        orders::CreateCart(ctx, std::nullopt, "hash");
        return Status(Code::kConflict, "refused after a change");
      },
  });
  ASSERT_TRUE(outcomes[0].ok()) << outcomes[0].message();
  ASSERT_EQ(outcomes[1].code(), Code::kConflict);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->related_order_ids, std::vector<int64_t>{first->id});
}

TEST_F(SqliteDatabaseTest, AnotherEmailsOrderIsNeverTakenForTheShoppersLast) {
  Seed("SKU-R5", 5, 0);
  Result<orders::Order> stranger = PlaceOrder("SKU-R5", 1, "stranger@example.my");
  ASSERT_TRUE(stranger.ok());
  auto conn = Connection::Open(dir_.File("tandem.db"), false);
  RecentOrders recent;
  SqliteOrderStore store(*conn, {.recent_orders = &recent});
  ASSERT_EQ(store.RecentOrderOf(std::nullopt, "stranger@example.my", 0), stranger->id);
  // As if two e-mails shared a hash: the memory names the stranger's order for this shopper.
  recent.Add("shopper@example.my", stranger->id, stranger->created_ms);
  ASSERT_EQ(recent.Candidate(*conn, "shopper@example.my", 0), stranger->id);
  EXPECT_EQ(store.RecentOrderOf(std::nullopt, "shopper@example.my", 0), std::nullopt);
}

TEST_F(SqliteDatabaseTest, RecentOrdersReadsAndRemembersAtMostItsBounds) {
  Seed("SKU-R3", 5, 0);
  std::vector<int64_t> ids;
  for (const char* email : {"a@example.my", "b@example.my", "c@example.my"}) {
    Result<orders::Order> order = PlaceOrder("SKU-R3", 1, email);
    ASSERT_TRUE(order.ok());
    ids.push_back(order->id);
  }
  auto conn = Connection::Open(dir_.File("tandem.db"), false);
  RecentOrders one_read(10, 1);
  EXPECT_EQ(one_read.Candidate(*conn, "b@example.my", 0), std::nullopt);
  EXPECT_EQ(one_read.Candidate(*conn, "c@example.my", 0), ids[2]);
  RecentOrders recent(2);
  // Committed before the first lookup: left to what that lookup reads from the file.
  recent.Add("z@example.my", 99, clock_.NowMs());
  recent.Commit();
  // The first lookup reads the newest two orders from the file.
  EXPECT_EQ(recent.Candidate(*conn, "a@example.my", 0), std::nullopt);
  EXPECT_EQ(recent.Candidate(*conn, "b@example.my", 0), ids[1]);
  EXPECT_EQ(recent.Candidate(*conn, "z@example.my", 0), std::nullopt);
  EXPECT_EQ(recent.size(), 2u);
  // Then those added and committed: the oldest is forgotten past the bound, a newer order
  // replaces an older.
  recent.Add("d@example.my", 100, clock_.NowMs() + 10);
  recent.Commit();
  EXPECT_EQ(recent.Candidate(*conn, "b@example.my", 0), std::nullopt);
  recent.Add("c@example.my", 101, clock_.NowMs() + 20);
  recent.Commit();
  EXPECT_EQ(recent.Candidate(*conn, "c@example.my", 0), 101);
  EXPECT_EQ(recent.Candidate(*conn, "d@example.my", 0), 100);
  // Orders placed before the time asked are forgotten.
  EXPECT_EQ(recent.Candidate(*conn, "d@example.my", clock_.NowMs() + 15), std::nullopt);
  EXPECT_EQ(recent.size(), 1u);
  // An order undone is forgotten, and the one it replaced is seen again.
  size_t mark = recent.added();
  recent.Add("c@example.my", 102, clock_.NowMs() + 30);
  EXPECT_EQ(recent.Candidate(*conn, "c@example.my", 0), 102);
  recent.Undo(mark);
  EXPECT_EQ(recent.Candidate(*conn, "c@example.my", 0), 101);
}

TEST_F(SqliteDatabaseTest, ACheckedOutCartKeepsItsLinesButIsReadWithoutThem) {
  Seed("SKU-L", 5, 0);
  int64_t bought = NewCart();
  int64_t waiting = NewCart();
  ASSERT_TRUE(Add(bought, "SKU-L", 2).ok());
  ASSERT_TRUE(Add(waiting, "SKU-L", 1).ok());
  ASSERT_TRUE(Checkout(bought).ok());
  ASSERT_TRUE(db_->Read([&](Tx& tx) {
                   std::optional<orders::Cart> closed = tx.orders().FindCart(bought);
                   EXPECT_TRUE(closed && !closed->open && closed->lines.empty());
                   std::optional<orders::Cart> open = tx.orders().FindCart(waiting);
                   EXPECT_TRUE(open && open->open && open->lines.size() == 1);
                   EXPECT_EQ(tx.orders().OpenCartsWithSku("SKU-L", 10),
                             std::vector<int64_t>{waiting});
                   return Status::Ok();
                 }).ok());
  // Kept on the file: checkout no longer deletes them (migration 7).
  static constexpr Query kLinesOfCart{"lines_of_cart",
                                      "SELECT count(*) FROM cart_lines WHERE cart_id = ?"};
  auto conn = Connection::Open(dir_.File("tandem.db"), false);
  Rows kept = conn->Select(kLinesOfCart, bought);
  ASSERT_TRUE(kept.Next());
  EXPECT_EQ(kept.Int(0), 1);
}

// An order's timeline as read back, one line per entry.
std::vector<std::string> TimelineText(const orders::Order& o) {
  std::vector<std::string> out;
  for (const auto& e : o.timeline) {
    out.push_back(std::to_string(e.at_ms - o.created_ms) + " " + e.actor + " " + e.from + ">" +
                  e.to + " " + e.note);
  }
  return out;
}

TEST_F(SqliteDatabaseTest, APlacementIsKeptInTheOrdersRowAndReadFirst) {
  Seed("SKU-P", 5, 0);
  Result<orders::Order> folded = PlaceOrder("SKU-P", 1);
  Result<orders::Order> legacy = PlaceOrder("SKU-P", 1);
  ASSERT_TRUE(folded.ok() && legacy.ok());
  static constexpr Query kTimelineRows{"timeline_rows",
                                       "SELECT count(*) FROM order_timeline WHERE order_id = ?"};
  auto conn = Connection::Open(dir_.File("tandem.db"), false);
  {
    Rows rows = conn->Select(kTimelineRows, folded->id);
    ASSERT_TRUE(rows.Next());
    EXPECT_EQ(rows.Int(0), 0);
  }
  // An order placed before migration 11 has its placement as a row of order_timeline.
  conn->ExecScript(("INSERT INTO order_timeline (order_id, at_ms, actor, from_status, to_status, "
                    "note) SELECT id, created_ms, placed_by, '', placed_status, placed_note "
                    "FROM orders WHERE id = " + std::to_string(legacy->id) + ";"
                    "UPDATE orders SET placed_by = NULL, placed_status = NULL, placed_note = NULL "
                    "WHERE id = " + std::to_string(legacy->id) + ";").c_str());
  clock_.Advance(5);
  for (int64_t id : {folded->id, legacy->id}) {
    ASSERT_TRUE(db_->Write([&](Tx& tx) {
                     auto ctx = Ctx(tx);
                     return orders::TransitionOrder(ctx, id, {orders::OrderStatus::kCancelled,
                                                              "changed my mind", "", ""})
                         .status();
                   }).ok());
  }
  const std::vector<std::string> expected{
      "0 test >pending_payment order placed",
      "5 test pending_payment>cancelled changed my mind"};
  ASSERT_TRUE(db_->Read([&](Tx& tx) {
                   EXPECT_EQ(TimelineText(*tx.orders().FindOrder(folded->id)), expected);
                   EXPECT_EQ(TimelineText(*tx.orders().FindOrder(legacy->id)), expected);
                   return Status::Ok();
                 }).ok());
}

TEST_F(SqliteDatabaseTest, OpenAllocationsOfASkuComeNewestFirstUpToTheLimit) {
  int64_t store = Seed("SKU-N", 5, 0).front();
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {  // another SKU at the same store
                   catalog::Product p;
                   p.name = "Product SKU-O";
                   p.variants.push_back({"SKU-O", 0, {1000, "MYR"}, {}, "", true});
                   auto created = catalog::CreateProduct(tx.catalog(), p, clock_.NowMs());
                   if (!created.ok()) return created.status();
                   return inventory::Adjust(tx.inventory(),
                                            {"SKU-O", store, 5,
                                             inventory::MovementReason::kReceipt, "seed"},
                                            clock_.NowMs())
                       .status();
                 }).ok());
  std::vector<int64_t> orders;
  for (const char* sku : {"SKU-N", "SKU-O", "SKU-N", "SKU-N", "SKU-O"}) {
    int64_t cart = NewCart();
    ASSERT_TRUE(Add(cart, sku, 1).ok());
    Result<orders::Order> order = Checkout(cart);
    ASSERT_TRUE(order.ok());
    if (std::string(sku) == "SKU-N") orders.push_back(order.value().id);
  }
  ASSERT_TRUE(db_->Read([&](Tx& tx) {
                   std::vector<int64_t> got;
                   for (const auto& a : tx.inventory().OpenAllocationsAt("SKU-N", store, 2)) {
                     EXPECT_EQ(a.sku, "SKU-N");
                     got.push_back(a.order_id);
                   }
                   EXPECT_EQ(got, (std::vector<int64_t>{orders[2], orders[1]}));
                   EXPECT_EQ(tx.inventory().OpenAllocationsAt("SKU-N", store, 10).size(), 3u);
                   EXPECT_TRUE(tx.inventory().OpenAllocationsAt("SKU-N", store, 0).empty());
                   return Status::Ok();
                 }).ok());
}

TEST_F(SqliteDatabaseTest, TheCheckSumsOpenAllocationsPerSkuAndLocation) {
  Seed("SKU-T", 5, 0);
  Seed("SKU-U", 5, 0);
  for (const char* sku : {"SKU-T", "SKU-U", "SKU-T"}) {
    int64_t cart = NewCart();
    ASSERT_TRUE(Add(cart, sku, 1).ok());
    ASSERT_TRUE(Checkout(cart).ok());
  }
  ASSERT_TRUE(Discrepancies().empty());
  // An allocation closed behind the counters' back: the SKU's open allocations sum to one unit
  // less than its counter says, and the other SKU stays consistent.
  static constexpr Query kCloseOne{
      "close_one", "UPDATE allocations SET open = 0 WHERE id = (SELECT MAX(id) FROM allocations)"};
  auto conn = Connection::Open(dir_.File("tandem.db"), false);
  ASSERT_EQ(conn->Exec(kCloseOne), 1);
  std::vector<std::string> found = Discrepancies();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("SKU-T"), std::string::npos) << found[0];
  EXPECT_NE(found[0].find("allocated 2 != open allocations 1"), std::string::npos) << found[0];
}

TEST_F(SqliteDatabaseTest, ACartListsItsLinesInTheOrderTheyWereAdded) {
  Seed("SKU-Z", 5, 0);
  Seed("SKU-A", 5, 0);
  Seed("SKU-M", 5, 0);
  int64_t cart = NewCart();
  for (const char* sku : {"SKU-Z", "SKU-A", "SKU-M"}) ASSERT_TRUE(Add(cart, sku, 1).ok());
  ASSERT_TRUE(Add(cart, "SKU-Z", 1).ok());  // a second unit keeps the line where it was
  ASSERT_TRUE(db_->Read([&](Tx& tx) {
                   std::optional<orders::Cart> found = tx.orders().FindCart(cart);
                   EXPECT_TRUE(found.has_value());
                   std::vector<std::string> skus;
                   for (const auto& line : found->lines) skus.push_back(line.sku);
                   EXPECT_EQ(skus, (std::vector<std::string>{"SKU-Z", "SKU-A", "SKU-M"}));
                   return Status::Ok();
                 }).ok());
}

TEST_F(SqliteDatabaseTest, OrderNumbersCountUpFromOneEachYear) {
  std::vector<int64_t> drawn;
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   for (int year : {2026, 2026, 2027, 2026, 2027}) {
                     drawn.push_back(tx.orders().NextOrderSequence(year));
                   }
                   return Status::Ok();
                 }).ok());
  EXPECT_EQ(drawn, (std::vector<int64_t>{1, 2, 1, 3, 2}));
  // A write that is rolled back gives its numbers back.
  EXPECT_FALSE(db_->Write([&](Tx& tx) {
                    tx.orders().NextOrderSequence(2026);
                    return Status(Code::kConflict, "refused");
                  }).ok());
  int64_t next = 0;
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   next = tx.orders().NextOrderSequence(2026);
                   return Status::Ok();
                 }).ok());
  EXPECT_EQ(next, 4);
}

// A number is drawn and recorded in one statement: one drawn by a job that then failed is given
// again, the file has the last number after the batch, and another connection's change is seen
// by the next draw.
TEST_F(SqliteDatabaseTest, OrderNumbersFollowTheirJobsAndTheFile) {
  std::vector<int64_t> drawn(3, 0);
  auto draw = [&drawn](int i, bool fail) -> TxFunction {
    return [&drawn, i, fail](Tx& tx) -> Status {
      drawn[i] = tx.orders().NextOrderSequence(2026);
      return fail ? Status(Code::kConflict, "refused after drawing") : Status::Ok();
    };
  };
  std::vector<Status> outcomes = RunAsOneBatch({draw(0, false), draw(1, true), draw(2, false)});
  EXPECT_TRUE(outcomes[0].ok());
  EXPECT_EQ(outcomes[1].code(), Code::kConflict);
  EXPECT_TRUE(outcomes[2].ok());
  EXPECT_EQ(drawn, (std::vector<int64_t>{1, 2, 2}));
  auto last_on_file = [&] {
    auto conn = Connection::Open(dir_.File("tandem.db"), false);
    Rows r = conn->Select(Query{"last_2026", "SELECT last FROM order_sequences WHERE year = 2026"});
    return r.Next() ? r.Int(0) : int64_t{0};
  };
  EXPECT_EQ(last_on_file(), 2);
  {
    auto other = Connection::Open(dir_.File("tandem.db"), false);
    other->ExecScript("UPDATE order_sequences SET last = 100 WHERE year = 2026");
  }
  outcomes = RunAsOneBatch({draw(0, false)});
  EXPECT_EQ(drawn[0], 101);
  EXPECT_EQ(last_on_file(), 101);
}

// Migration 13 gives the live holds of a file from before it (left at version 12) ids in their
// carts' ranges, in the order they were placed.
TEST(HoldsMigrationTest, LiveHoldsAreRenumberedIntoTheirCartsRanges) {
  testing::TempDir dir{"tandem-test"};
  const std::string path = dir.File("tandem.db");
  ASSERT_TRUE(MigrateSqlite(path, 12).ok());
  {
    // Two carts' holds, numbered as before: one sequence for all, interleaved.
    auto c = Connection::Open(path, false);
    c->ExecScript(
        "INSERT INTO carts (id, token_hash, created_ms, updated_ms) VALUES (1, 'a', 0, 0), "
        "  (2, 'b', 0, 0);"
        "INSERT INTO holds (id, cart_id, sku, location_id, quantity, expires_ms) VALUES "
        "  (1, 1, 'S', 1, 1, 9), (2, 2, 'S', 1, 2, 9), (3, 1, 'T', 1, 3, 9);");
  }
  auto db = OpenSqlite({path, true});
  ASSERT_TRUE(db.ok()) << db.status().message();
  ASSERT_TRUE((*db)->Read([&](Tx& tx) {
                     std::vector<inventory::Hold> first = tx.inventory().HoldsOfCart(1);
                     std::vector<inventory::Hold> second = tx.inventory().HoldsOfCart(2);
                     EXPECT_EQ(first.size(), 2u);
                     EXPECT_EQ(second.size(), 1u);
                     if (first.size() == 2 && second.size() == 1) {
                       EXPECT_EQ(first[0].id, kHoldsPerCartMax + 1);
                       EXPECT_EQ(first[0].sku, "S");
                       EXPECT_EQ(first[1].id, kHoldsPerCartMax + 2);
                       EXPECT_EQ(first[1].quantity, 3);
                       EXPECT_EQ(second[0].id, 2 * kHoldsPerCartMax + 1);
                       EXPECT_EQ(second[0].quantity, 2);
                     }
                     return Status::Ok();
                   }).ok());
}

// Of two moves of held units in one batch that cannot both be made, the first is kept and the
// second refused, as if each had run alone: the stock row's update is guarded.
TEST_F(SqliteDatabaseTest, MovesOfABatchThatCannotAllBeMadeAreMadeOneByOne) {
  const int64_t loc = HeldAtFirst("DC-S");
  std::vector<Status> outcomes =
      RunAsOneBatch({MoveHeld("DC-S", loc, 2), MoveHeld("DC-S", loc, 2)});
  EXPECT_TRUE(outcomes[0].ok()) << outcomes[0].message();
  EXPECT_EQ(outcomes[1].code(), Code::kConflict);
  EXPECT_EQ(HeldAndAllocated("DC-S", loc), (std::pair<int64_t, int64_t>{1, 2}));
}

TEST_F(SqliteDatabaseTest, MigrationsAreAppliedOnce) {
  db_.reset();
  Result<int> again = MigrateSqlite(dir_.File("tandem.db"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
}

}  // namespace
}  // namespace tandem::storage::sqlite
