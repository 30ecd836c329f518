// The storage contract suite: the promises of storage/database.h and of the stores' guarded
// operations, held against every engine of the Database seam with the same test bodies.
//
// A body reaches storage only through Database, Tx, the stores and the domain functions, never
// through SQL or an engine's own types, so that each engine added to Engines() is held to
// exactly what the others are. A transaction that read before another committed is modelled by
// separate writes: one reads, another commits a change, then the first makes its guarded call
// with what it read, which must be refused and change nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include "tandem/base/check.h"
#include "tandem/catalog/catalog.h"
#include "tandem/inventory/adjust.h"
#include "tandem/inventory/inventory.h"
#include "tandem/storage/database.h"
#include "tandem/storage/sqlite/sqlite_database.h"
#include "tandem/sync/sync.h"
#include "testing/held_write.h"
#include "testing/temp_dir.h"

namespace tandem::storage {
namespace {

// An engine under test: its name (a test name's suffix) and how to open its database.
struct Engine {
  std::string name;
  // Opens the engine's database kept in `folder` (which exists and belongs to the running test
  // alone), creating it when new and reopening it, with what was durable, when not. Null (with a
  // test failure added) when it cannot.
  std::function<std::unique_ptr<Database>(const std::string& folder)> open;
};

// Every engine the contract is held against. To add one, append {name, factory} here: a server
// engine maps `folder` to a database or schema of its own (created empty the first time it sees
// the folder) so that tests never share data. Nothing else in this file names an engine.
std::vector<Engine> Engines() {
  return {
      {"Sqlite",
       [](const std::string& folder) -> std::unique_ptr<Database> {
         Result<std::unique_ptr<Database>> db = sqlite::OpenSqlite({folder + "/tandem.db"});
         if (!db.ok()) {
           ADD_FAILURE() << "opening SQLite in " << folder << ": " << db.status().message();
           return nullptr;
         }
         return std::move(db.value());
       }},
  };
}

// What gtest prints for the parameter of a failing test.
void PrintTo(const Engine& engine, std::ostream* os) { *os << engine.name; }

constexpr int64_t kNowMs = 1'800'000'000'000;  // 2027-01-15
constexpr int kYear = 2027;

class StoreContract : public ::testing::TestWithParam<Engine> {
 private:
  // The answers of writes submitted together; shared with their `done`s, which may still come
  // when a failed assertion has ended the test.
  struct Answers {
    explicit Answers(size_t n) : statuses(n), answered(n, 0) {}
    void Set(size_t i, Status s) {
      std::lock_guard lock(mu);
      statuses[i] = std::move(s);
      ++answered[i];
      cv.notify_all();
    }
    std::vector<Status> WaitAll() {
      std::unique_lock lock(mu);
      const bool all = cv.wait_for(lock, std::chrono::seconds(60), [&] {
        return std::all_of(answered.begin(), answered.end(), [](int n) { return n > 0; });
      });
      EXPECT_TRUE(all) << "not every write submitted together was answered";
      return statuses;
    }
    std::mutex mu;
    std::condition_variable cv;
    std::vector<Status> statuses;
    std::vector<int> answered;
  };

  // Runs `fn` through `run` (Write or Read), expecting ok; returns what `fn` returned.
  template <typename Fn, typename Runner>
  auto Run(Fn& fn, Runner run) {
    using T = std::invoke_result_t<Fn&, Tx&>;
    if constexpr (std::is_void_v<T>) {
      Status s = run([&](Tx& tx) {
        fn(tx);
        return Status::Ok();
      });
      EXPECT_TRUE(s.ok()) << s.message();
    } else {
      T out{};
      Status s = run([&](Tx& tx) {
        out = fn(tx);
        return Status::Ok();
      });
      EXPECT_TRUE(s.ok()) << s.message();
      return out;
    }
  }

 protected:
  void SetUp() override { Open(); }

  void TearDown() override {
    db_.reset();
    // A parameterized test's name holds a '/', so TempDir's folder lies in one of its own.
    const std::filesystem::path parent = dir_.path().parent_path();
    if (parent != std::filesystem::temp_directory_path()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_.path(), ignored);
      std::filesystem::remove(parent, ignored);  // only when empty
    }
  }

  void Open() {
    db_ = GetParam().open(dir_.path().string());
    ASSERT_NE(db_, nullptr);
  }

  // Closes the database and opens it again from the folder.
  void Reopen() {
    db_.reset();
    Open();
  }

  // Runs `fn` in a write of its own that returns ok, and returns what `fn` returned (on its last
  // run: a write function may run more than once). The write must be kept.
  template <typename Fn>
  auto InWrite(Fn fn) {
    return Run(fn, [this](const TxFunction& f) { return db_->Write(f); });
  }
  // The same on a read-only snapshot.
  template <typename Fn>
  auto InRead(Fn fn) {
    return Run(fn, [this](const TxFunction& f) { return db_->Read(f); });
  }

  // Submits `fns` with WriteAsync while a held write keeps them waiting together, then lets them
  // go; returns their answers in order.
  std::vector<Status> WriteTogether(const std::vector<TxFunction>& fns) {
    auto answers = std::make_shared<Answers>(fns.size());
    {
      testing::HeldWrite held(*db_, [](Status) {}, std::chrono::milliseconds(100));
      for (size_t i = 0; i < fns.size(); ++i) {
        db_->WriteAsync(fns[i], [answers, i](Status s) { answers->Set(i, std::move(s)); });
      }
    }
    return answers->WaitAll();
  }

  // A product of one variant `sku`; returns its id.
  int64_t AddProduct(const std::string& name, const std::string& sku, bool active = true) {
    return InWrite([&](Tx& tx) -> int64_t {
      catalog::Product p;
      p.name = name;
      p.active = active;
      p.variants.push_back({sku, 0, {1000, "MYR"}, {}, "", true});
      Result<catalog::Product> created = catalog::CreateProduct(tx.catalog(), p, kNowMs);
      EXPECT_TRUE(created.ok()) << created.status().message();
      return created.ok() ? created->id : 0;
    });
  }

  int64_t AddLocation(const std::string& code) {
    return InWrite([&](Tx& tx) {
      inventory::Location l;
      l.code = code;
      l.name = code;
      l.ships_orders = true;
      l.sells_in_store = true;
      return tx.inventory().InsertLocation(l);
    });
  }

  // A product sold as `sku` with `on_hand` units received at a new location; returns that
  // location.
  int64_t Stock(const std::string& sku, int64_t on_hand) {
    AddProduct("Product " + sku, sku);
    const int64_t loc = AddLocation(sku + "-STORE");
    InWrite([&](Tx& tx) {
      auto r = inventory::Adjust(
          tx.inventory(), {sku, loc, on_hand, inventory::MovementReason::kReceipt, "seed"}, kNowMs);
      EXPECT_TRUE(r.ok()) << r.status().message();
    });
    return loc;
  }

  inventory::StockLevel LevelOf(const std::string& sku, int64_t loc) {
    return InRead([&](Tx& tx) {
      std::optional<inventory::StockLevel> level = tx.inventory().Level(sku, loc);
      EXPECT_TRUE(level.has_value());
      return level.value_or(inventory::StockLevel{});
    });
  }

  // A sale event, running now, that ring-fences `sku` and lets each customer buy `limit` units.
  int64_t AddSaleEvent(const std::string& sku, int64_t limit) {
    AddProduct("Product " + sku, sku);
    return InWrite([&](Tx& tx) {
      inventory::SaleEvent e{0, "12.12", kNowMs - 1, kNowMs + 3'600'000, limit, kNowMs};
      return tx.inventory().InsertSaleEvent(e, {{0, sku, 100, 0}});
    });
  }

  int64_t Purchased(int64_t event, const std::string& customer, const std::string& sku) {
    return InRead([&](Tx& tx) { return tx.inventory().Purchased(event, customer, sku); });
  }

  // A store with a till, and the product its events sell (TillEvent); returns the store.
  int64_t AddTillStore(const std::string& code) {
    AddProduct("Till item", "TILL-SKU");
    return AddLocation(code);
  }

  // A till event of one line, as a till would upload it.
  static sync::StoredEvent TillEvent(int64_t loc, const std::string& till, const std::string& id,
                                     int64_t seq, const std::string& status = "pending") {
    sync::StoredEvent s;
    s.event = {id, seq, sync::EventType::kSale, kNowMs, {{"TILL-SKU", 1}}};
    s.location_id = loc;
    s.till_id = till;
    s.content_hash = "hash of " + id + " at " + std::to_string(seq);
    s.status = status;
    return s;
  }

  std::optional<sync::StoredEvent> FindEvent(const std::string& id) {
    return InRead([&](Tx& tx) { return tx.sync().FindEvent(id); });
  }

  std::optional<std::string> Setting(const std::string& key) {
    return InRead([&](Tx& tx) { return tx.GetSetting(key); });
  }

  std::vector<int64_t> Search(const std::vector<std::string>& terms, int limit = 50,
                              int64_t offset = 0) {
    return InRead([&](Tx& tx) { return tx.catalog().SearchProducts(terms, limit, offset); });
  }
  // As a shopper's text reaches the store: split into words by the catalog.
  std::vector<int64_t> SearchText(const std::string& text) {
    return Search(catalog::SearchTerms(text));
  }

  testing::TempDir dir_{"tandem-contract"};  // declared first: removed after the database
  std::unique_ptr<Database> db_;
};

// ---- guarded operations ----

// Two checkouts of one customer under a sale event both read what the customer bought before
// either recorded its units: the second may not take the customer past the limit.
TEST_P(StoreContract, APurchaseNeverTakesACustomerPastTheEventsLimit) {
  const int64_t event = AddSaleEvent("FLASH-1", 3);
  const int64_t seen =
      InWrite([&](Tx& tx) { return tx.inventory().Purchased(event, "customer 7", "FLASH-1"); });
  ASSERT_EQ(seen, 0);
  EXPECT_TRUE(InWrite(
      [&](Tx& tx) { return tx.inventory().TryAddPurchase(event, "customer 7", "FLASH-1", 2, 3); }));
  // What it read (0) plus 2 is within the limit; what is on file (2) plus 2 is not.
  EXPECT_FALSE(InWrite(
      [&](Tx& tx) { return tx.inventory().TryAddPurchase(event, "customer 7", "FLASH-1", 2, 3); }));
  EXPECT_EQ(Purchased(event, "customer 7", "FLASH-1"), 2);
  // Up to the limit exactly, then nothing more.
  EXPECT_TRUE(InWrite(
      [&](Tx& tx) { return tx.inventory().TryAddPurchase(event, "customer 7", "FLASH-1", 1, 3); }));
  EXPECT_FALSE(InWrite(
      [&](Tx& tx) { return tx.inventory().TryAddPurchase(event, "customer 7", "FLASH-1", 1, 3); }));
  EXPECT_EQ(Purchased(event, "customer 7", "FLASH-1"), 3);
  // Another customer's purchases are counted apart.
  EXPECT_TRUE(InWrite(
      [&](Tx& tx) { return tx.inventory().TryAddPurchase(event, "customer 8", "FLASH-1", 3, 3); }));
  EXPECT_EQ(Purchased(event, "customer 8", "FLASH-1"), 3);
}

TEST_P(StoreContract, AFirstPurchaseBeyondTheLimitIsRefusedAndRecordsNothing) {
  const int64_t event = AddSaleEvent("FLASH-2", 3);
  EXPECT_FALSE(InWrite(
      [&](Tx& tx) { return tx.inventory().TryAddPurchase(event, "customer 7", "FLASH-2", 4, 3); }));
  EXPECT_EQ(Purchased(event, "customer 7", "FLASH-2"), 0);
  // Had the 4 units been recorded, these 3 would be refused.
  EXPECT_TRUE(InWrite(
      [&](Tx& tx) { return tx.inventory().TryAddPurchase(event, "customer 7", "FLASH-2", 3, 3); }));
  EXPECT_EQ(Purchased(event, "customer 7", "FLASH-2"), 3);
}

// A cart read 5 units available; another cart held 4 before it placed its hold of 2.
TEST_P(StoreContract, AHoldIsRefusedWhenAnotherTookTheUnitsItSawAvailable) {
  const int64_t loc = Stock("RES-1", 5);
  const int64_t seen =
      InWrite([&](Tx& tx) { return tx.inventory().Level("RES-1", loc).value().Available(); });
  ASSERT_EQ(seen, 5);
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.inventory().TryReserve("RES-1", loc, 4); }));
  EXPECT_FALSE(InWrite([&](Tx& tx) { return tx.inventory().TryReserve("RES-1", loc, 2); }));
  EXPECT_EQ(LevelOf("RES-1", loc).reserved, 4);
  // The last unit can still be held, and then none.
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.inventory().TryReserve("RES-1", loc, 1); }));
  EXPECT_FALSE(InWrite([&](Tx& tx) { return tx.inventory().TryReserve("RES-1", loc, 1); }));
  const inventory::StockLevel level = LevelOf("RES-1", loc);
  EXPECT_EQ(level.reserved, 5);
  EXPECT_EQ(level.Available(), 0);
}

// A checkout read 3 units held; another checkout moved 2 of them to allocated first.
TEST_P(StoreContract, AMoveToAllocatedIsRefusedWhenTheUnitsItSawHeldAreGone) {
  const int64_t loc = Stock("RES-2", 5);
  ASSERT_TRUE(InWrite([&](Tx& tx) { return tx.inventory().TryReserve("RES-2", loc, 3); }));
  const int64_t seen =
      InWrite([&](Tx& tx) { return tx.inventory().Level("RES-2", loc).value().reserved; });
  ASSERT_EQ(seen, 3);
  EXPECT_TRUE(
      InWrite([&](Tx& tx) { return tx.inventory().TryReservedToAllocated("RES-2", loc, 2); }));
  EXPECT_FALSE(
      InWrite([&](Tx& tx) { return tx.inventory().TryReservedToAllocated("RES-2", loc, 2); }));
  const inventory::StockLevel level = LevelOf("RES-2", loc);
  EXPECT_EQ(level.reserved, 1);
  EXPECT_EQ(level.allocated, 2);
}

// Two releases of one cart's hold (the sweeper and the shopper) both read 3 units held.
TEST_P(StoreContract, AReleaseIsRefusedWhenTheUnitsItSawHeldWereReleased) {
  const int64_t loc = Stock("RES-3", 5);
  ASSERT_TRUE(InWrite([&](Tx& tx) { return tx.inventory().TryReserve("RES-3", loc, 3); }));
  const int64_t seen =
      InWrite([&](Tx& tx) { return tx.inventory().Level("RES-3", loc).value().reserved; });
  ASSERT_EQ(seen, 3);
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.inventory().TryUnreserve("RES-3", loc, 2); }));
  EXPECT_FALSE(InWrite([&](Tx& tx) { return tx.inventory().TryUnreserve("RES-3", loc, 3); }));
  EXPECT_EQ(LevelOf("RES-3", loc).reserved, 1);
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.inventory().TryUnreserve("RES-3", loc, 1); }));
  EXPECT_EQ(LevelOf("RES-3", loc).reserved, 0);
}

// Two cancellations read 3 units allocated; the first gave 2 back.
TEST_P(StoreContract, AnUnallocationIsRefusedWhenTheUnitsItSawAllocatedWereGivenBack) {
  const int64_t loc = Stock("RES-4", 5);
  ASSERT_TRUE(InWrite([&](Tx& tx) { return tx.inventory().TryAllocate("RES-4", loc, 3); }));
  const int64_t seen =
      InWrite([&](Tx& tx) { return tx.inventory().Level("RES-4", loc).value().allocated; });
  ASSERT_EQ(seen, 3);
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.inventory().TryUnallocate("RES-4", loc, 2); }));
  EXPECT_FALSE(InWrite([&](Tx& tx) { return tx.inventory().TryUnallocate("RES-4", loc, 3); }));
  EXPECT_EQ(LevelOf("RES-4", loc).allocated, 1);
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.inventory().TryUnallocate("RES-4", loc, 1); }));
  EXPECT_EQ(LevelOf("RES-4", loc).allocated, 0);
}

// Two uploads of one till read its sequence at 2; the first advanced it to 4.
TEST_P(StoreContract, ATillIsAdvancedOnlyFromTheSequenceItWasReadAt) {
  const int64_t loc = AddLocation("TILLS-1");
  ASSERT_TRUE(InWrite([&](Tx& tx) { return tx.sync().TryAdvanceTill(loc, 0, {"T1", 2, 100}); }));
  const int64_t seen =
      InWrite([&](Tx& tx) { return tx.sync().FindTill(loc, "T1").value().last_applied_seq; });
  ASSERT_EQ(seen, 2);
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.sync().TryAdvanceTill(loc, 2, {"T1", 4, 200}); }));
  EXPECT_FALSE(InWrite([&](Tx& tx) { return tx.sync().TryAdvanceTill(loc, 2, {"T1", 3, 300}); }));
  const std::optional<sync::TillStatus> till =
      InRead([&](Tx& tx) { return tx.sync().FindTill(loc, "T1"); });
  ASSERT_TRUE(till.has_value());
  EXPECT_EQ(till->last_applied_seq, 4);
  EXPECT_EQ(till->last_upload_ms, 200);
}

TEST_P(StoreContract, ATillNeverSeenIsRecordedOnlyFromZero) {
  const int64_t loc = AddLocation("TILLS-2");
  EXPECT_FALSE(InWrite([&](Tx& tx) { return tx.sync().TryAdvanceTill(loc, 3, {"T1", 5, 100}); }));
  EXPECT_FALSE(InRead([&](Tx& tx) { return tx.sync().FindTill(loc, "T1"); }).has_value());
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.sync().TryAdvanceTill(loc, 0, {"T1", 5, 100}); }));
  const std::optional<sync::TillStatus> till =
      InRead([&](Tx& tx) { return tx.sync().FindTill(loc, "T1"); });
  ASSERT_TRUE(till.has_value());
  EXPECT_EQ(till->last_applied_seq, 5);
}

// Two logins read the account's old hash; the first replaced it (or the password changed).
TEST_P(StoreContract, APasswordHashIsReplacedOnlyWhileItIsTheOneThatWasRead) {
  customers::Account a;
  a.email = "upgrade@example.my";
  a.name = "Upgrade";
  a.password_hash = "old";
  const int64_t id = InWrite([&](Tx& tx) { return tx.accounts().InsertAccount(a); });
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.accounts().ReplacePasswordHash(id, "old", "new"); }));
  EXPECT_FALSE(
      InWrite([&](Tx& tx) { return tx.accounts().ReplacePasswordHash(id, "old", "other"); }));
  EXPECT_FALSE(
      InWrite([&](Tx& tx) { return tx.accounts().ReplacePasswordHash(id + 1, "new", "x"); }));
  EXPECT_EQ(InRead([&](Tx& tx) { return tx.accounts().FindAccount(id)->password_hash; }), "new");
}

// A session is extended only while it is live, and only forward.
TEST_P(StoreContract, ASessionIsExtendedOnlyWhileLiveAndOnlyForward) {
  customers::Account a;
  a.email = "sliding@example.my";
  a.name = "Sliding";
  a.password_hash = "h";
  const int64_t id = InWrite([&](Tx& tx) { return tx.accounts().InsertAccount(a); });
  InWrite([&](Tx& tx) {
    tx.accounts().InsertSession({"live", id, kNowMs, kNowMs + 1000, false});
    tx.accounts().InsertSession({"gone", id, kNowMs, kNowMs + 1000, false});
    tx.accounts().RevokeSession("gone");
    return 0;
  });
  auto expires = [&](const char* token_hash) {
    return InRead([&](Tx& tx) { return tx.accounts().FindSession(token_hash)->expires_ms; });
  };
  EXPECT_TRUE(
      InWrite([&](Tx& tx) { return tx.accounts().ExtendSession("live", kNowMs + 5000, kNowMs); }));
  EXPECT_EQ(expires("live"), kNowMs + 5000);
  // Not backwards, not once expired, not when revoked, not when unknown.
  EXPECT_FALSE(
      InWrite([&](Tx& tx) { return tx.accounts().ExtendSession("live", kNowMs + 4000, kNowMs); }));
  EXPECT_FALSE(InWrite(
      [&](Tx& tx) { return tx.accounts().ExtendSession("live", kNowMs + 9000, kNowMs + 5000); }));
  EXPECT_EQ(expires("live"), kNowMs + 5000);
  EXPECT_FALSE(
      InWrite([&](Tx& tx) { return tx.accounts().ExtendSession("gone", kNowMs + 5000, kNowMs); }));
  EXPECT_EQ(expires("gone"), kNowMs + 1000);
  EXPECT_FALSE(
      InWrite([&](Tx& tx) { return tx.accounts().ExtendSession("none", kNowMs + 5000, kNowMs); }));
}

// Two first uploads of a new till both read no till (sequence 0); the first recorded it.
TEST_P(StoreContract, ANewTillIsRecordedOnceWhenTwoUploadsFoundItMissing) {
  const int64_t loc = AddLocation("TILLS-3");
  const bool missing = InWrite([&](Tx& tx) { return !tx.sync().FindTill(loc, "T1").has_value(); });
  ASSERT_TRUE(missing);
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.sync().TryAdvanceTill(loc, 0, {"T1", 3, 100}); }));
  EXPECT_FALSE(InWrite([&](Tx& tx) { return tx.sync().TryAdvanceTill(loc, 0, {"T1", 1, 200}); }));
  const std::optional<sync::TillStatus> till =
      InRead([&](Tx& tx) { return tx.sync().FindTill(loc, "T1"); });
  ASSERT_TRUE(till.has_value());
  EXPECT_EQ(till->last_applied_seq, 3);
  EXPECT_EQ(till->last_upload_ms, 100);
  // Each till of a location counts apart.
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.sync().TryAdvanceTill(loc, 0, {"T2", 1, 300}); }));
}

// Two uploads read that neither the event's id nor its till's seq was taken; the first inserted.
TEST_P(StoreContract, AnEventIsInsertedOnlyWhenNeitherItsIdNorItsSeqIsTaken) {
  const int64_t loc = AddTillStore("EVENTS-1");
  const bool untaken = InWrite([&](Tx& tx) {
    return !tx.sync().FindEvent("e1") && !tx.sync().FindEventBySeq(loc, "T1", 1);
  });
  ASSERT_TRUE(untaken);
  EXPECT_TRUE(InWrite(
      [&](Tx& tx) { return tx.sync().TryInsertEvent(TillEvent(loc, "T1", "e1", 1), kNowMs); }));
  // The same id at another seq.
  EXPECT_FALSE(InWrite(
      [&](Tx& tx) { return tx.sync().TryInsertEvent(TillEvent(loc, "T1", "e1", 2), kNowMs); }));
  // Another id at the same seq of the same till.
  EXPECT_FALSE(InWrite(
      [&](Tx& tx) { return tx.sync().TryInsertEvent(TillEvent(loc, "T1", "e2", 1), kNowMs); }));
  const std::optional<sync::StoredEvent> kept = FindEvent("e1");
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->event.seq, 1);
  EXPECT_EQ(kept->content_hash, TillEvent(loc, "T1", "e1", 1).content_hash);
  EXPECT_FALSE(FindEvent("e2").has_value());
  EXPECT_FALSE(InRead([&](Tx& tx) { return tx.sync().FindEventBySeq(loc, "T1", 2); }).has_value());
  const std::optional<sync::StoredEvent> at_one =
      InRead([&](Tx& tx) { return tx.sync().FindEventBySeq(loc, "T1", 1); });
  ASSERT_TRUE(at_one.has_value());
  EXPECT_EQ(at_one->event.id, "e1");
  // A seq is per till: another till's seq 1 is free.
  EXPECT_TRUE(InWrite(
      [&](Tx& tx) { return tx.sync().TryInsertEvent(TillEvent(loc, "T2", "e3", 1), kNowMs); }));
}

// Two uploads read the event pending; the first marked it applied, with a conflict.
TEST_P(StoreContract, OnlyAPendingEventIsMarkedApplied) {
  const int64_t loc = AddTillStore("EVENTS-2");
  ASSERT_TRUE(InWrite(
      [&](Tx& tx) { return tx.sync().TryInsertEvent(TillEvent(loc, "T1", "e1", 1), kNowMs); }));
  const std::string seen =
      InWrite([&](Tx& tx) { return tx.sync().FindEvent("e1").value().status; });
  ASSERT_EQ(seen, "pending");
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.sync().TryMarkApplied("e1", true, kNowMs + 1); }));
  EXPECT_FALSE(InWrite([&](Tx& tx) { return tx.sync().TryMarkApplied("e1", false, kNowMs + 2); }));
  const std::optional<sync::StoredEvent> applied = FindEvent("e1");
  ASSERT_TRUE(applied.has_value());
  EXPECT_EQ(applied->status, "applied");
  EXPECT_TRUE(applied->conflict);
  // An event stored as applied, and one never stored, are not marked either.
  ASSERT_TRUE(InWrite([&](Tx& tx) {
    return tx.sync().TryInsertEvent(TillEvent(loc, "T1", "e2", 2, "applied"), kNowMs);
  }));
  EXPECT_FALSE(InWrite([&](Tx& tx) { return tx.sync().TryMarkApplied("e2", true, kNowMs + 3); }));
  const std::optional<sync::StoredEvent> stored_applied = FindEvent("e2");
  ASSERT_TRUE(stored_applied.has_value());
  EXPECT_EQ(stored_applied->status, "applied");
  EXPECT_FALSE(stored_applied->conflict);
  EXPECT_FALSE(InWrite([&](Tx& tx) { return tx.sync().TryMarkApplied("e9", false, kNowMs); }));
  EXPECT_FALSE(FindEvent("e9").has_value());
}

// Two requests with one Idempotency-Key both found no stored answer; the first stored its own.
TEST_P(StoreContract, AnIdempotencyRecordIsSavedOnceAndNeverOverwritten) {
  const bool absent = InWrite([&](Tx& tx) { return !tx.FindIdempotency("key-1").has_value(); });
  ASSERT_TRUE(absent);
  const IdempotencyRecord first{"hash-1", 201, "{\"order\":1}"};
  const IdempotencyRecord second{"hash-2", 409, "{\"code\":\"conflict\"}"};
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.TrySaveIdempotency("key-1", first, kNowMs); }));
  EXPECT_FALSE(InWrite([&](Tx& tx) { return tx.TrySaveIdempotency("key-1", second, kNowMs + 1); }));
  const std::optional<IdempotencyRecord> stored =
      InRead([&](Tx& tx) { return tx.FindIdempotency("key-1"); });
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->request_hash, "hash-1");
  EXPECT_EQ(stored->status, 201);
  EXPECT_EQ(stored->body, "{\"order\":1}");
  EXPECT_TRUE(InWrite([&](Tx& tx) { return tx.TrySaveIdempotency("key-2", second, kNowMs); }));
}

TEST_P(StoreContract, OrderNumbersCountUpEachYearAndANumberOfARefusedWriteIsGivenAgain) {
  auto draw = [&](int year) {
    return InWrite([&](Tx& tx) { return tx.orders().NextOrderSequence(year); });
  };
  EXPECT_EQ(draw(kYear), 1);
  EXPECT_EQ(draw(kYear), 2);
  EXPECT_EQ(draw(kYear + 1), 1);
  EXPECT_EQ(draw(kYear), 3);
  int64_t refused_number = 0;
  Status refused = db_->Write([&](Tx& tx) {
    refused_number = tx.orders().NextOrderSequence(kYear);
    return Status(Code::kConflict, "refused after drawing");
  });
  EXPECT_EQ(refused.code(), Code::kConflict);
  EXPECT_EQ(refused_number, 4);
  EXPECT_EQ(draw(kYear), 4);
  EXPECT_EQ(draw(kYear + 1), 2);
}

// Checkouts submitted together each draw a number; the refused ones' numbers are given again,
// so the kept ones hold the next numbers, each once.
TEST_P(StoreContract, OrderNumbersDrawnTogetherAreNeverRepeated) {
  constexpr int kWrites = 12;
  auto drawn = std::make_shared<std::vector<int64_t>>(kWrites, 0);
  std::vector<TxFunction> fns;
  for (int i = 0; i < kWrites; ++i) {
    fns.push_back([drawn, i](Tx& tx) {
      (*drawn)[i] = tx.orders().NextOrderSequence(kYear);
      return i % 3 == 1 ? Status(Code::kConflict, "refused after drawing") : Status::Ok();
    });
  }
  std::vector<Status> answers = WriteTogether(fns);
  std::vector<int64_t> kept;
  for (int i = 0; i < kWrites; ++i) {
    if (i % 3 == 1) {
      EXPECT_EQ(answers[i].code(), Code::kConflict) << i;
    } else {
      EXPECT_TRUE(answers[i].ok()) << i << ": " << answers[i].message();
      kept.push_back((*drawn)[i]);
    }
  }
  std::sort(kept.begin(), kept.end());
  std::vector<int64_t> expected(kept.size());
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = static_cast<int64_t>(i) + 1;
  EXPECT_EQ(kept, expected);
  EXPECT_EQ(InWrite([&](Tx& tx) { return tx.orders().NextOrderSequence(kYear); }),
            static_cast<int64_t>(kept.size()) + 1);
}

// ---- durability and failure, seen from outside ----

TEST_P(StoreContract, AFreshDatabaseIsHealthy) {
  Status health = db_->Health();
  EXPECT_TRUE(health.ok()) << health.message();
}

TEST_P(StoreContract, WritesAnsweredOkAreThereAfterTheDatabaseIsReopened) {
  const int64_t loc = Stock("DUR-1", 5);
  ASSERT_TRUE(InWrite([&](Tx& tx) { return tx.inventory().TryReserve("DUR-1", loc, 2); }));
  InWrite([&](Tx& tx) { tx.PutSetting("marker", "kept"); });
  std::vector<TxFunction> fns;
  for (int i = 0; i < 8; ++i) {
    fns.push_back([i](Tx& tx) {
      tx.PutSetting("together-" + std::to_string(i), std::to_string(i));
      return Status::Ok();
    });
  }
  for (const Status& s : WriteTogether(fns)) ASSERT_TRUE(s.ok()) << s.message();

  Reopen();
  EXPECT_EQ(Setting("marker"), "kept");
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(Setting("together-" + std::to_string(i)), std::to_string(i)) << i;
  }
  const inventory::StockLevel level = LevelOf("DUR-1", loc);
  EXPECT_EQ(level.on_hand, 5);
  EXPECT_EQ(level.reserved, 2);
  Status health = db_->Health();
  EXPECT_TRUE(health.ok()) << health.message();
}

TEST_P(StoreContract, AWriteThatReturnsAnErrorChangesNothing) {
  const int64_t loc = Stock("ERR-1", 5);
  Status before_writing = db_->Write([](Tx&) { return Status(Code::kInsufficientStock, "no"); });
  EXPECT_EQ(before_writing.code(), Code::kInsufficientStock);
  Status after_writing = db_->Write([&](Tx& tx) {
    tx.PutSetting("half", "done");
    tx.inventory().InsertLocation({0, "GONE", "Gone", inventory::LocationKind::kStore});
    if (!tx.inventory().TryReserve("ERR-1", loc, 2)) return Status(Code::kInternal, "setup");
    return Status(Code::kConflict, "refused after writing");
  });
  EXPECT_EQ(after_writing.code(), Code::kConflict);
  EXPECT_FALSE(Setting("half").has_value());
  EXPECT_FALSE(
      InRead([&](Tx& tx) { return tx.inventory().FindLocationByCode("GONE"); }).has_value());
  EXPECT_EQ(LevelOf("ERR-1", loc).reserved, 0);
}

// A refused write submitted together with kept ones is undone alone.
TEST_P(StoreContract, AWriteRefusedAmongOthersIsUndoneAlone) {
  const int64_t loc = Stock("ERR-2", 5);
  auto reserve = [loc](const std::string& key, int64_t qty, bool refuse) -> TxFunction {
    return [=](Tx& tx) {
      tx.PutSetting(key, "written");
      if (!tx.inventory().TryReserve("ERR-2", loc, qty)) return Status(Code::kInternal, "setup");
      return refuse ? Status(Code::kConflict, "refused after writing") : Status::Ok();
    };
  };
  std::vector<Status> answers = WriteTogether(
      {reserve("first", 1, false), reserve("refused", 2, true), reserve("third", 1, false)});
  EXPECT_TRUE(answers[0].ok()) << answers[0].message();
  EXPECT_EQ(answers[1].code(), Code::kConflict);
  EXPECT_TRUE(answers[2].ok()) << answers[2].message();
  EXPECT_EQ(Setting("first"), "written");
  EXPECT_FALSE(Setting("refused").has_value());
  EXPECT_EQ(Setting("third"), "written");
  EXPECT_EQ(LevelOf("ERR-2", loc).reserved, 2);
}

TEST_P(StoreContract, AWriteThatThrowsIsRolledBackAndAnsweredInternal) {
  Status thrown = db_->Write([](Tx& tx) -> Status {
    tx.PutSetting("thrown", "half");
    throw std::runtime_error("a library failed");
  });
  EXPECT_EQ(thrown.code(), Code::kInternal);
  Status checked = db_->Write([](Tx& tx) -> Status {
    tx.PutSetting("checked", "half");
    TANDEM_CHECK(1 + 1 == 3);
    return Status::Ok();
  });
  EXPECT_EQ(checked.code(), Code::kInternal);
  EXPECT_FALSE(Setting("thrown").has_value());
  EXPECT_FALSE(Setting("checked").has_value());
  // Among writes submitted together, it is undone alone.
  std::vector<Status> answers = WriteTogether({
      [](Tx& tx) {
        tx.PutSetting("before", "kept");
        return Status::Ok();
      },
      [](Tx& tx) -> Status {
        tx.PutSetting("thrown-together", "half");
        throw std::runtime_error("a library failed");
      },
      [](Tx& tx) {
        tx.PutSetting("after", "kept");
        return Status::Ok();
      },
  });
  EXPECT_TRUE(answers[0].ok()) << answers[0].message();
  EXPECT_EQ(answers[1].code(), Code::kInternal);
  EXPECT_TRUE(answers[2].ok()) << answers[2].message();
  EXPECT_EQ(Setting("before"), "kept");
  EXPECT_FALSE(Setting("thrown-together").has_value());
  EXPECT_EQ(Setting("after"), "kept");
}

// Failures of a write function are its own: they do not make the database refuse writes.
TEST_P(StoreContract, RefusedAndThrowingWritesLeaveTheDatabaseTakingWrites) {
  EXPECT_EQ(db_->Write([](Tx&) { return Status(Code::kConflict, "no"); }).code(), Code::kConflict);
  EXPECT_EQ(db_->Write([](Tx&) -> Status { throw std::runtime_error("boom"); }).code(),
            Code::kInternal);
  Status health = db_->Health();
  EXPECT_TRUE(health.ok()) << health.message();
  InWrite([](Tx& tx) { tx.PutSetting("after", "kept"); });
  EXPECT_EQ(Setting("after"), "kept");
}

// Writes submitted with WriteAsync, several to a batch: each is answered exactly once, and a
// read begun after a kept write's answer sees it (a refused one's is never seen). Each answer
// waits (a while at most) until the test has read its write, so a read made while `done` runs
// is one begun after it: an engine answering before its commit is caught every time.
TEST_P(StoreContract, WritesSubmittedTogetherAreEachAnsweredOnceAndSeenAfterTheirAnswer) {
  constexpr int kWrites = 48;
  struct Answers {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<int> times = std::vector<int>(kWrites, 0);
    std::vector<Status> statuses = std::vector<Status>(kWrites);
    std::vector<int> order;                                      // indexes as answered
    std::vector<bool> read = std::vector<bool>(kWrites, false);  // checked by the test
  };
  auto answers = std::make_shared<Answers>();
  auto refused = [](int i) { return i % 4 == 3; };
  {
    testing::HeldWrite held(*db_, [](Status) {}, std::chrono::milliseconds(100));
    for (int i = 0; i < kWrites; ++i) {
      db_->WriteAsync(
          [i, refused](Tx& tx) {
            tx.PutSetting("async-" + std::to_string(i), std::to_string(i));
            return refused(i) ? Status(Code::kConflict, "refused after writing") : Status::Ok();
          },
          [answers, i](Status s) {
            std::unique_lock lock(answers->mu);
            ++answers->times[i];
            answers->statuses[i] = std::move(s);
            answers->order.push_back(i);
            answers->cv.notify_all();
            answers->cv.wait_for(lock, std::chrono::seconds(10), [&] { return answers->read[i]; });
          });
    }
  }
  size_t taken = 0;
  for (int checked = 0; checked < kWrites; ++taken) {
    int i = -1;
    Status status;
    {
      std::unique_lock lock(answers->mu);
      ASSERT_TRUE(answers->cv.wait_for(lock, std::chrono::seconds(60),
                                       [&] { return answers->order.size() > taken; }))
          << "answered " << checked << " of " << kWrites;
      i = answers->order[taken];
      if (answers->read[i]) continue;  // answered again: counted below
      status = answers->statuses[i];
    }
    const std::optional<std::string> seen = Setting("async-" + std::to_string(i));
    if (refused(i)) {
      EXPECT_EQ(status.code(), Code::kConflict) << i;
      EXPECT_FALSE(seen.has_value()) << i;
    } else {
      EXPECT_TRUE(status.ok()) << i << ": " << status.message();
      EXPECT_EQ(seen, std::to_string(i)) << i;
    }
    std::lock_guard lock(answers->mu);
    answers->read[i] = true;
    answers->cv.notify_all();
    ++checked;
  }
  // A write queued after every answer: any second answer would have come before its own.
  InWrite([](Tx& tx) { tx.PutSetting("last", "1"); });
  std::lock_guard lock(answers->mu);
  for (int i = 0; i < kWrites; ++i) EXPECT_EQ(answers->times[i], 1) << i;
}

// ---- search ----

TEST_P(StoreContract, SearchFindsAProductByTheStartOfAnyOfItsWords) {
  const int64_t sarong = AddProduct("Batik Sarong", "P-1");
  const int64_t kebaya = AddProduct("Kebaya Lace", "P-2");
  EXPECT_EQ(Search({"bat"}), std::vector<int64_t>{sarong});
  EXPECT_EQ(Search({"sar"}), std::vector<int64_t>{sarong});
  EXPECT_EQ(Search({"sarong"}), std::vector<int64_t>{sarong});
  EXPECT_EQ(Search({"kebaya"}), std::vector<int64_t>{kebaya});
  // Within a word is not its start.
  EXPECT_TRUE(Search({"rong"}).empty());
  EXPECT_TRUE(Search({"ace"}).empty());
}

TEST_P(StoreContract, SearchFindsOnlyProductsThatHaveEveryTerm) {
  const int64_t batik_navy = AddProduct("Batik Sarong Navy", "P-1");
  const int64_t batik_red = AddProduct("Batik Shirt Red", "P-2");
  const int64_t navy_shirt = AddProduct("Navy Shirt", "P-3");
  EXPECT_EQ(Search({"batik", "navy"}), std::vector<int64_t>{batik_navy});
  EXPECT_EQ(Search({"navy", "batik"}), std::vector<int64_t>{batik_navy});
  EXPECT_EQ(Search({"shi", "red"}), std::vector<int64_t>{batik_red});
  std::vector<int64_t> shirts = Search({"shirt"});
  std::sort(shirts.begin(), shirts.end());
  EXPECT_EQ(shirts, (std::vector<int64_t>{batik_red, navy_shirt}));
  EXPECT_TRUE(Search({"batik", "blue"}).empty());
}

// A shopper's text may look like the engine's query language; its words are only words.
TEST_P(StoreContract, SearchTakesQueryOperatorsForPlainWords) {
  const int64_t sarong = AddProduct("Batik Sarong", "P-1");
  AddProduct("Navy Shirt", "P-2");
  const int64_t orchid = AddProduct("Batik Navy Orchid", "P-3");
  // As operators these would find all three, or the first two; as words only the orchid has
  // "batik", a word starting "or" and "navy".
  EXPECT_EQ(SearchText("batik OR navy"), std::vector<int64_t>{orchid});
  EXPECT_EQ(Search({"batik", "OR", "navy"}), std::vector<int64_t>{orchid});
  EXPECT_TRUE(Search({"batik", "NOT", "navy"}).empty());
  EXPECT_TRUE(Search({"batik", "AND", "navy"}).empty());
  EXPECT_TRUE(SearchText("NEAR(batik navy)").empty());
  EXPECT_TRUE(Search({"NEAR", "batik"}).empty());
  std::vector<int64_t> batik = SearchText("\"batik");
  std::sort(batik.begin(), batik.end());
  EXPECT_EQ(batik, (std::vector<int64_t>{sarong, orchid}));
  EXPECT_EQ(SearchText("sar* \"batik\""), std::vector<int64_t>{sarong});
  EXPECT_EQ(SearchText("orch*"), std::vector<int64_t>{orchid});
  // Terms outside the catalog's words (SearchTerms never makes them) are still no syntax.
  for (const std::vector<std::string>& raw :
       std::vector<std::vector<std::string>>{{"*"},
                                             {"\""},
                                             {"bat\"ik"},
                                             {"sar*", "\"navy\""},
                                             {"("},
                                             {"batik", ")"},
                                             {"-navy"},
                                             {"name:batik"}}) {
    Status s = db_->Read([&](Tx& tx) {
      tx.catalog().SearchProducts(raw, 50, 0);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << raw.front() << ": " << s.message();
  }
}

TEST_P(StoreContract, SearchWithoutTermsListsEveryActiveProduct) {
  std::vector<int64_t> active;
  for (int i = 0; i < 3; ++i) {
    active.push_back(AddProduct("Active " + std::to_string(i), "A-" + std::to_string(i)));
  }
  AddProduct("Retired Batik", "R-1", /*active=*/false);
  std::vector<int64_t> listed = Search({});
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, active);
  EXPECT_TRUE(Search({"retired"}).empty());
}

TEST_P(StoreContract, SearchPagesByOffset) {
  std::set<int64_t> batik;
  for (int i = 0; i < 5; ++i) {
    batik.insert(AddProduct("Batik " + std::to_string(i), "B-" + std::to_string(i)));
  }
  AddProduct("Songket", "S-1");
  for (const std::vector<std::string>& terms :
       std::vector<std::vector<std::string>>{{"batik"}, {}}) {
    const size_t total = terms.empty() ? 6 : 5;
    std::vector<int64_t> pages;
    for (int64_t offset = 0; offset < 6; offset += 2) {
      std::vector<int64_t> page = Search(terms, 2, offset);
      EXPECT_EQ(page.size(), std::min<size_t>(2, total - std::min<size_t>(total, offset)))
          << "offset " << offset;
      pages.insert(pages.end(), page.begin(), page.end());
    }
    EXPECT_EQ(pages.size(), total);
    EXPECT_EQ(std::set<int64_t>(pages.begin(), pages.end()).size(), total) << "a repeat";
    EXPECT_EQ(Search(terms, 50, 0).size(), total);
    if (!terms.empty()) {
      EXPECT_EQ(std::set<int64_t>(pages.begin(), pages.end()), batik);
    }
    EXPECT_TRUE(Search(terms, 2, 6).empty());
  }
}

// No prefix: the tests are StoreContract.<Test>/<engine>.
INSTANTIATE_TEST_SUITE_P(, StoreContract, ::testing::ValuesIn(Engines()),
                         [](const ::testing::TestParamInfo<Engine>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace tandem::storage
