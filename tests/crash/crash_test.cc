// The crash-and-recover loop: Tandem's SQLite database runs over the fault-injecting VFS
// (testing/fault_vfs.h) and the power is cut after every round of writes. One data folder lives
// through all rounds. A round arms a random fault (none, a failed write, a failed sync, or the
// power going at a random write or sync), submits a random mix of stock adjustments and orders
// at once (so that they share commits; an order's cart, line and checkout are three writes, each
// sent when the one before was answered), waits for every answer, closes the database, cuts the
// power and opens the database again, which serves the next round. Then every write answered ok
// must be there exactly once, no write may be there twice, and `tandem check` must find nothing.
//
// TANDEM_CRASH_ROUNDS=N sets the number of rounds (default 1,000); a failure prints its seed and
// TANDEM_CRASH_SEED=S runs that seed again: the same faults and writes (how the writes fall
// into commits depends on the threads' timing).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tandem/api/api.h"
#include "tandem/app/app.h"
#include "tandem/catalog/catalog.h"
#include "tandem/inventory/adjust.h"
#include "tandem/orders/service.h"
#include "tandem/storage/sqlite/sqlite_database.h"
#include "testing/fake_clock.h"
#include "testing/fault_vfs.h"
#include "testing/temp_dir.h"

namespace tandem {
namespace {

constexpr int kRoundsDefault = 1000;
constexpr int kWritesPerRoundMax = 12;  // adjustments and orders submitted at once
constexpr int kAnswerSecondsMax = 30;   // for all of a round's answers
// The fault plans' random counts stay within what a round does: a dozen writes make a few
// commits of some ten file writes each, and a sync per commit.
constexpr int64_t kWritesBeforeFaultMax = 40;
constexpr int64_t kSyncsBeforeFaultMax = 3;
constexpr int64_t kOperationsBeforePowerGoesMax = 60;
constexpr int kIntegrityCheckEveryRounds = 100;
constexpr int kMovementsPerPage = 200;
constexpr int64_t kUnitsAtStart = 1'000'000;  // per location: never runs out
constexpr int64_t kHoldTtlMs = 15 * 60 * 1000;
constexpr int64_t kStartMs = 1'800'000'000'000;
constexpr const char* kSku = "CRASH-1";
constexpr const char* kLocationCodes[] = {"CRASH-DC", "CRASH-STORE"};

// What a round submitted and what was answered ok; the answers come on storage threads.
struct RoundLog {
  std::mutex mu;
  std::condition_variable answered;
  storage::Database* db = nullptr;  // the round's database, open until all is answered
  int pending = 0;                  // writes submitted and not yet answered
  std::set<std::string> acked_adjustments;
  std::vector<std::string> orders;  // every order's e-mail tried
  std::set<std::string> acked_orders;
  int refused = 0;  // answers that were not ok
};

class CrashLoop {
 public:
  CrashLoop(uint64_t seed, std::string path, testing::FaultVfs& fault)
      : rng_(seed), path_(std::move(path)), fault_(fault) {}

  // Runs `rounds` rounds; "" or what broke first, with its round.
  std::string Run(int rounds) {
    if (std::string broken = Open(); !broken.empty()) return "open: " + broken;
    if (std::string broken = Seed(); !broken.empty()) return "seed: " + broken;
    for (round_ = 0; round_ < rounds; ++round_, ++rounds_run_) {
      std::string fault;
      if (std::string broken = RunRound(&fault); !broken.empty()) {
        return "round " + std::to_string(round_) + " (" + fault + "): " + broken;
      }
    }
    std::string broken = IntegrityCheck();
    if (broken.empty()) broken = CheckWholeLedger();
    db_.reset();
    return broken.empty() ? "" : "at the end: " + broken;
  }

  int rounds_run() const { return rounds_run_; }
  int64_t acked_adjustments() const { return adjustments_acked_; }
  int64_t acked_orders() const { return orders_acked_; }
  int64_t refused() const { return refused_; }
  int64_t faults() const { return static_cast<int64_t>(fault_.counts().faults); }

 private:
  int64_t Rand(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  int64_t NowMs() const { return kStartMs + int64_t{round_} * 1000; }

  std::string Open() {
    storage::sqlite::SqliteOptions options;
    options.path = path_;
    options.vfs = fault_.name();
    auto db = storage::sqlite::OpenSqlite(options);
    if (!db.ok()) return db.status().message();
    db_ = std::move(*db);
    if (Status health = db_->Health(); !health.ok()) return "not healthy: " + health.message();
    return ReadLocations();
  }

  // The locations as the file knows them.
  std::string ReadLocations() {
    locations_.clear();
    Status read = db_->Read([&](storage::Tx& tx) {
      for (const char* code : kLocationCodes) {
        if (auto l = tx.inventory().FindLocationByCode(code)) locations_.push_back(l->id);
      }
      return Status::Ok();
    });
    if (!read.ok()) return "read locations: " + read.message();
    return "";
  }

  // A product with one variant, two locations with stock; durable before the first round.
  std::string Seed() {
    Status s = db_->Write([&](storage::Tx& tx) -> Status {
      catalog::Product p;
      p.name = "Crash test product";
      p.variants.push_back({kSku, 0, {1000, "MYR"}, {}, "", true});
      TANDEM_RETURN_IF_ERROR(catalog::CreateProduct(tx.catalog(), p, kStartMs).status());
      for (const char* code : kLocationCodes) {
        inventory::Location l;
        l.code = code;
        l.name = code;
        l.kind = inventory::LocationKind::kStore;
        l.ships_orders = true;
        l.id = tx.inventory().InsertLocation(l);
        tx.inventory().EnsureLevel(kSku, l.id, 0);
        TANDEM_RETURN_IF_ERROR(
            inventory::Adjust(
                tx.inventory(),
                {kSku, l.id, kUnitsAtStart, inventory::MovementReason::kReceipt, "seed"}, kStartMs)
                .status());
      }
      return Status::Ok();
    });
    if (!s.ok()) return s.message();
    if (std::string broken = ReadLocations(); !broken.empty()) return broken;
    if (locations_.size() != 2) return "the seeded locations are not there";
    return "";
  }

  std::string ArmFault() {
    switch (Rand(0, 3)) {
      case 0:
        return "no fault";
      case 1: {
        int64_t n = Rand(0, kWritesBeforeFaultMax);
        fault_.FailWriteAfter(n);
        return "write " + std::to_string(n + 1) + " fails";
      }
      case 2: {
        int64_t n = Rand(0, kSyncsBeforeFaultMax);
        fault_.FailSyncAfter(n);
        return "sync " + std::to_string(n + 1) + " fails";
      }
      default: {
        int64_t n = Rand(0, kOperationsBeforePowerGoesMax);
        fault_.DieAfter(n);
        return "power goes after " + std::to_string(n) + " writes and syncs";
      }
    }
  }

  // Submits `fn`; `then` gets its outcome on a storage thread and may submit more.
  void Submit(RoundLog& log, storage::TxFunction fn, std::function<void(Status)> then) {
    {
      std::lock_guard lock(log.mu);
      ++log.pending;
    }
    log.db->WriteAsync(std::move(fn), [&log, then = std::move(then)](Status s) {
      if (!s.ok()) {
        std::lock_guard lock(log.mu);
        ++log.refused;
      }
      then(s);
      std::lock_guard lock(log.mu);
      if (--log.pending == 0) log.answered.notify_all();
    });
  }

  void SubmitAdjustment(RoundLog& log, int i) {
    const std::string reference = "r" + std::to_string(round_) + "-a" + std::to_string(i);
    const int64_t location = locations_[static_cast<size_t>(Rand(0, 1))];
    int64_t delta = Rand(-3, 5);
    if (delta == 0) delta = 1;
    const int64_t now = NowMs();
    Submit(
        log,
        [reference, location, delta, now](storage::Tx& tx) {
          return inventory::Adjust(
                     tx.inventory(),
                     {kSku, location, delta, inventory::MovementReason::kAdjustment, reference},
                     now)
              .status();
        },
        [&log, reference](Status s) {
          if (!s.ok()) return;
          std::lock_guard lock(log.mu);
          log.acked_adjustments.insert(reference);
        });
  }

  // Three writes, each submitted once the one before was answered ok, as a shopper's requests
  // are: a cart, a line with its hold, the checkout.
  void SubmitOrder(RoundLog& log, int i) {
    struct Order {
      std::string email;
      int64_t quantity = 0;
      int64_t now_ms = 0;
      orders::OrderSecrets secrets;  // made before the write, as the API does
      int64_t cart_id = 0;           // set by the first write's last run
    };
    auto order = std::make_shared<Order>();
    order->email = "c" + std::to_string(round_) + "x" + std::to_string(i) + "@crash.test";
    order->quantity = Rand(1, 3);
    order->now_ms = NowMs();
    order->secrets = orders::NewOrderSecrets(order->now_ms);
    log.orders.push_back(order->email);
    auto context = [order](storage::Tx& tx) {
      return orders::OrderContext{tx.catalog(),  tx.inventory(), tx.orders(),
                                  order->now_ms, kHoldTtlMs,     "crash"};
    };
    auto checkout = [this, &log, order, context](Status added) {
      if (!added.ok()) return;
      Submit(
          log,
          [order, context](storage::Tx& tx) {
            auto ctx = context(tx);
            orders::CheckoutRequest req;
            req.secrets = order->secrets;
            req.email = order->email;
            req.address = orders::Address{"C", "1 Jalan Crash", "", "KL", "50000", "MY", ""};
            return orders::Checkout(ctx, order->cart_id, req).status();
          },
          [&log, order](Status s) {
            if (!s.ok()) return;
            std::lock_guard lock(log.mu);
            log.acked_orders.insert(order->email);
          });
    };
    auto add_item = [this, &log, order, context, checkout](Status made) {
      if (!made.ok()) return;
      Submit(
          log,
          [order, context](storage::Tx& tx) {
            auto ctx = context(tx);
            return orders::AddItem(ctx, order->cart_id, kSku, order->quantity);
          },
          checkout);
    };
    Submit(
        log,
        [order, context](storage::Tx& tx) {
          auto ctx = context(tx);
          order->cart_id = orders::CreateCart(ctx, std::nullopt, "crash").id;
          return Status::Ok();
        },
        add_item);
  }

  std::string RunRound(std::string* fault) {
    *fault = ArmFault();
    RoundLog log;
    log.db = db_.get();
    const int64_t writes = Rand(1, kWritesPerRoundMax);
    for (int i = 0; i < writes; ++i) {
      if (Rand(0, 2) == 0) {
        SubmitOrder(log, i);
      } else {
        SubmitAdjustment(log, i);
      }
    }
    bool all_answered = false;
    {
      std::unique_lock lock(log.mu);
      all_answered = log.answered.wait_for(lock, std::chrono::seconds(kAnswerSecondsMax),
                                           [&log] { return log.pending == 0; });
    }
    if (!all_answered) {
      // Left running: its threads may still answer into `log`, which is about to go.
      (void)db_.release();
      return "writes unanswered after " + std::to_string(kAnswerSecondsMax) + " s";
    }
    db_.reset();
    refused_ += log.refused;
    const std::string fired = fault_.FirstFault();
    *fault += fired.empty() ? "; none fired" : "; fired: " + fired;
    fault_.PowerCut();
    if (std::string broken = Open(); !broken.empty()) return "reopen: " + broken;
    if (std::string broken = CheckAdjustments(log); !broken.empty()) return broken;
    if (std::string broken = CheckOrders(log); !broken.empty()) return broken;
    std::string report;
    Result<int> found = app::CheckInventory(*db_, &report);
    if (!found.ok()) return "check: " + found.status().message();
    if (*found != 0) return "check found " + std::to_string(*found) + ": " + report;
    if ((round_ + 1) % kIntegrityCheckEveryRounds == 0) return IntegrityCheck();
    return "";
  }

  // The movements added since the last round was checked: every acknowledged reference once,
  // no reference twice (in them, or with one of an earlier round).
  std::string CheckAdjustments(const RoundLog& log) {
    std::vector<inventory::Movement> added;
    Status read = db_->Read([&](storage::Tx& tx) {
      for (int64_t location : locations_) {
        const int64_t seen_up_to = seen_movement_id_[location];
        int64_t before = 0;
        for (bool more = true; more;) {
          std::vector<inventory::Movement> page =
              tx.inventory().MovementsOf(kSku, location, before, kMovementsPerPage);
          more = page.size() == static_cast<size_t>(kMovementsPerPage);
          for (inventory::Movement& m : page) {
            if (m.id <= seen_up_to) {
              more = false;
              break;
            }
            before = m.id;
            added.push_back(std::move(m));
          }
        }
      }
      return Status::Ok();
    });
    if (!read.ok()) return "read the ledger: " + read.message();
    for (const inventory::Movement& m : added) {
      int64_t& seen = seen_movement_id_[m.location_id];
      seen = std::max(seen, m.id);
      if (m.reason != inventory::MovementReason::kAdjustment) continue;
      if (!ledger_.insert(m.reference).second) {
        return "adjustment " + m.reference + " is in the ledger twice";
      }
    }
    for (const std::string& reference : log.acked_adjustments) {
      if (!ledger_.contains(reference)) {
        return "adjustment " + reference + " was acknowledged but is not in the ledger";
      }
    }
    adjustments_acked_ += static_cast<int64_t>(log.acked_adjustments.size());
    return "";
  }

  // What was checked after each round is still there: the ledger's adjustments are exactly
  // those seen so far.
  std::string CheckWholeLedger() {
    std::multiset<std::string> references;
    Status read = db_->Read([&](storage::Tx& tx) {
      for (int64_t location : locations_) {
        int64_t before = 0;
        for (bool more = true; more;) {
          std::vector<inventory::Movement> page =
              tx.inventory().MovementsOf(kSku, location, before, kMovementsPerPage);
          more = page.size() == static_cast<size_t>(kMovementsPerPage);
          for (const inventory::Movement& m : page) {
            before = m.id;
            if (m.reason == inventory::MovementReason::kAdjustment) references.insert(m.reference);
          }
        }
      }
      return Status::Ok();
    });
    if (!read.ok()) return "read the ledger: " + read.message();
    if (references != std::multiset<std::string>(ledger_.begin(), ledger_.end())) {
      return "the ledger holds " + std::to_string(references.size()) + " adjustments, " +
             std::to_string(ledger_.size()) + " were seen after the rounds";
    }
    return "";
  }

  // Every order acknowledged is there once; none is there twice.
  std::string CheckOrders(const RoundLog& log) {
    std::string broken;
    Status read = db_->Read([&](storage::Tx& tx) {
      for (const std::string& email : log.orders) {
        orders::OrderFilter filter;
        filter.text = email;
        filter.limit = 3;
        const size_t found = tx.orders().ListOrders(filter).size();
        const bool acked = log.acked_orders.contains(email);
        if (found > 1 || (acked && found != 1)) {
          broken = "order of " + email + (acked ? " (acknowledged)" : "") + " is there " +
                   std::to_string(found) + " times";
          return Status::Ok();
        }
      }
      return Status::Ok();
    });
    if (!read.ok()) return "read orders: " + read.message();
    orders_acked_ += static_cast<int64_t>(log.acked_orders.size());
    return broken;
  }

  // SQLite's own check of the file, through a connection of its own.
  std::string IntegrityCheck() {
    sqlite3* raw = nullptr;
    std::string result = "no answer";
    if (sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READONLY, fault_.name().c_str()) ==
        SQLITE_OK) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK &&
          sqlite3_step(stmt) == SQLITE_ROW) {
        result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
      }
      sqlite3_finalize(stmt);
    }
    sqlite3_close(raw);
    return result == "ok" ? "" : "integrity check: " + result;
  }

  std::mt19937_64 rng_;
  const std::string path_;
  testing::FaultVfs& fault_;
  std::unique_ptr<storage::Database> db_;
  std::vector<int64_t> locations_;
  int round_ = 0;
  int rounds_run_ = 0;                           // passed all checks
  std::map<int64_t, int64_t> seen_movement_id_;  // per location: the ledger checked up to it
  std::set<std::string> ledger_;                 // every adjustment reference in the ledger
  int64_t adjustments_acked_ = 0;
  int64_t orders_acked_ = 0;
  int64_t refused_ = 0;
};

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

TEST(CrashTest, EveryAcknowledgedWriteSurvivesEveryPowerCutExactlyOnce) {
  const uint64_t seed = EnvOr("TANDEM_CRASH_SEED", std::random_device{}());
  const int rounds = static_cast<int>(EnvOr("TANDEM_CRASH_ROUNDS", kRoundsDefault));
  testing::TempDir dir("tandem-crash");
  testing::FaultVfs fault;
  CrashLoop loop(seed, dir.File("tandem.db"), fault);
  const auto start = std::chrono::steady_clock::now();
  const std::string broken = loop.Run(rounds);
  EXPECT_EQ(broken, "") << "replay with TANDEM_CRASH_SEED=" << seed;
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
  std::printf(
      "seed %llu: %d of %d rounds in %.1f s; %lld adjustments and %lld orders acknowledged, "
      "%lld writes refused, %lld faults\n",
      static_cast<unsigned long long>(seed), loop.rounds_run(), rounds, seconds.count(),
      static_cast<long long>(loop.acked_adjustments()), static_cast<long long>(loop.acked_orders()),
      static_cast<long long>(loop.refused()), static_cast<long long>(loop.faults()));
}

// leveldb's bg_error_, PostgreSQL's panic: after a failed sync of the WAL nothing written since
// the last good sync can be trusted, so the database refuses every later write until reopened.
TEST(CrashTest, AfterAFailedSyncEveryWriteIsRefusedAndNothingOfItApplied) {
  testing::TempDir dir("tandem-crash");
  testing::FaultVfs fault;
  storage::sqlite::SqliteOptions options;
  options.path = dir.File("tandem.db");
  options.vfs = fault.name();
  auto opened = storage::sqlite::OpenSqlite(options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  std::unique_ptr<storage::Database> db = std::move(*opened);
  int64_t location = 0;
  auto adjust = [&location](const std::string& reference) {
    return [&location, reference](storage::Tx& tx) {
      return inventory::Adjust(
                 tx.inventory(),
                 {kSku, location, 1, inventory::MovementReason::kAdjustment, reference}, kStartMs)
          .status();
    };
  };
  ASSERT_TRUE(db->Write([&](storage::Tx& tx) -> Status {
                  catalog::Product p;
                  p.name = "Crash test product";
                  p.variants.push_back({kSku, 0, {1000, "MYR"}, {}, "", true});
                  TANDEM_RETURN_IF_ERROR(
                      catalog::CreateProduct(tx.catalog(), p, kStartMs).status());
                  inventory::Location l;
                  l.code = kLocationCodes[0];
                  l.name = l.code;
                  location = tx.inventory().InsertLocation(l);
                  tx.inventory().EnsureLevel(kSku, location, 0);
                  return Status::Ok();
                }).ok());
  ASSERT_TRUE(db->Write(adjust("kept")).ok());
  EXPECT_TRUE(db->Health().ok());
  // The server's view: /readyz, and a shopper's write over the API.
  testing::FakeClock clock;
  api::ApiOptions api_options;
  api_options.worker_threads = 2;
  auto api = std::make_unique<api::Api>(*db, clock, api_options);
  api->SetReady(true);
  auto answer = [&api](const std::string& method, const std::string& path) {
    api::Request request;
    request.method = method;
    request.path = path;
    std::promise<api::Response> promise;
    std::future<api::Response> future = promise.get_future();
    api->Handle(request, [&promise](api::Response r) { promise.set_value(std::move(r)); });
    return future.get();
  };
  EXPECT_EQ(answer("GET", "/readyz").status, 200);
  EXPECT_EQ(answer("POST", "/api/v1/carts").status, 201);

  fault.FailSyncAfter(0);
  Status failed = db->Write(adjust("failed"));
  EXPECT_EQ(failed.code(), Code::kUnavailable) << failed.message();
  EXPECT_FALSE(db->Health().ok());
  for (int i = 0; i < 3; ++i) {
    Status later = db->Write(adjust("later-" + std::to_string(i)));
    EXPECT_EQ(later.code(), Code::kUnavailable) << later.message();
  }
  EXPECT_FALSE(db->Health().ok());
  api::Response ready = answer("GET", "/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.log_detail.find("storage failed"), std::string::npos) << ready.log_detail;
  api::Response cart = answer("POST", "/api/v1/carts");
  EXPECT_EQ(cart.status, 503) << cart.body;
  api.reset();
  auto references = [&db, &location] {
    std::set<std::string> out;
    EXPECT_TRUE(db->Read([&](storage::Tx& tx) {
                    for (const auto& m : tx.inventory().MovementsOf(kSku, location, 0, 100)) {
                      out.insert(m.reference);
                    }
                    return Status::Ok();
                  }).ok());
    return out;
  };
  std::set<std::string> seen = references();
  EXPECT_TRUE(seen.contains("kept"));
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(seen.contains("later-" + std::to_string(i)));

  db.reset();
  fault.PowerCut();
  opened = storage::sqlite::OpenSqlite(options);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  db = std::move(*opened);
  EXPECT_TRUE(db->Health().ok());
  seen = references();
  EXPECT_TRUE(seen.contains("kept"));
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(seen.contains("later-" + std::to_string(i)));
  EXPECT_TRUE(db->Write(adjust("after the power cut")).ok());
  std::string report;
  Result<int> found = app::CheckInventory(*db, &report);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, 0) << report;
}

}  // namespace
}  // namespace tandem
