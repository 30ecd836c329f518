// A deterministic simulation of one retailer: shoppers hold, check out and cancel online while store
// tills sell offline and upload late, in cut, repeated and reordered batches; counts, receipts,
// transfers, shipping, a sale event and hold expiry happen in between. After every step every invariant of SPEC §4 that
// concerns stock is checked. A failing seed is printed; TANDEM_SIM_SEED=N replays it exactly,
// TANDEM_SIM_SEEDS=N sets how many seeds run (default 2000).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include "tandem/inventory/adjust.h"
#include "tandem/inventory/allocator.h"
#include "tandem/inventory/transfer.h"
#include "tandem/orders/service.h"
#include "tandem/storage/sqlite/sqlite_database.h"
#include "tandem/sync/sync.h"
#include "testing/fake_clock.h"

namespace tandem {
namespace {

constexpr int kStepsPerSeed = 30;
constexpr int64_t kTtlMs = 5 * 60 * 1000;
const std::vector<std::string> kSkus{"SIM-A", "SIM-B", "SIM-C"};

struct Till {
  int64_t location_id = 0;
  std::string till_id;
  int64_t next_seq = 1;
  std::vector<sync::TillEvent> unsent;     // recorded offline, never uploaded
  std::vector<sync::TillEvent> sent;       // uploaded at least once (may be re-sent)
};

class Simulation {
 public:
  Simulation(uint64_t seed, const std::filesystem::path& dir) : rng_(seed), dir_(dir) {}

  // Runs the seed; returns "" or the first broken invariant with the step that broke it.
  std::string Run() {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto db = storage::sqlite::OpenSqlite({(dir_ / "sim.db").string(), true, false});
    if (!db.ok()) return "open: " + db.status().message();
    db_ = std::move(db.value());
    Setup();
    if (std::string broken = CheckInvariants(); !broken.empty()) return "after setup: " + broken;
    for (int step = 0; step < kStepsPerSeed; ++step) {
      std::string action = Step();
      if (std::string broken = CheckInvariants(); !broken.empty()) {
        return "step " + std::to_string(step) + " (" + action + "): " + broken;
      }
    }
    // Finally every till uploads everything: the database must meet the physical world.
    for (Till& t : tills_) {
      t.sent.insert(t.sent.end(), t.unsent.begin(), t.unsent.end());
      t.unsent.clear();
      Upload(t, t.sent);
    }
    if (std::string broken = CheckInvariants(); !broken.empty()) return "final: " + broken;
    for (const auto& [key, units] : physical_) {
      int64_t on_hand = Level(key.first, key.second).on_hand;
      if (on_hand != units) {
        return "final: " + key.first + " at " + std::to_string(key.second) + " on hand " +
               std::to_string(on_hand) + " but " + std::to_string(units) + " on the shelf";
      }
    }
    db_.reset();
    std::filesystem::remove_all(dir_);
    return "";
  }

 private:
  int64_t Rand(int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng_); }

  orders::OrderContext Ctx(storage::Tx& tx) {
    return orders::OrderContext{tx.catalog(), tx.inventory(), tx.orders(), clock_.NowMs(), kTtlMs,
                                "sim"};
  }
  sync::SyncContext SyncCtx(storage::Tx& tx) {
    return sync::SyncContext{tx.catalog(), tx.inventory(), tx.orders(), tx.notify(),
                             tx.sync(),    tx.accounts(),  clock_.NowMs()};
  }

  void Write(const storage::TxFunction& fn) { (void)db_->Write(fn); }

  void Setup() {
    Write([&](storage::Tx& tx) -> Status {
      for (const std::string& sku : kSkus) {
        catalog::Product p;
        p.name = "Sim " + sku;
        p.variants.push_back({sku, 0, {1000, "MYR"}, {}, "", true});
        TANDEM_CHECK(catalog::CreateProduct(tx.catalog(), p, clock_.NowMs()).ok());
      }
      for (int i = 0; i < 3; ++i) {
        inventory::Location l;
        l.code = "L" + std::to_string(i);
        l.name = i == 0 ? "DC" : "Store " + std::to_string(i);
        l.kind = i == 0 ? inventory::LocationKind::kDistributionCentre : inventory::LocationKind::kStore;
        l.ships_orders = true;
        l.pickup = i > 0;
        l.sells_in_store = i > 0;
        l.safety_stock_default = i > 0 ? Rand(0, 1) : 0;
        l.id = tx.inventory().InsertLocation(l);
        locations_.push_back(l);
        for (const std::string& sku : kSkus) {
          int64_t units = Rand(0, 5);
          tx.inventory().EnsureLevel(sku, l.id, l.safety_stock_default);
          physical_[{sku, l.id}] = units;
          if (units > 0) {
            TANDEM_CHECK(inventory::Adjust(tx.inventory(),
                                           {sku, l.id, units, inventory::MovementReason::kReceipt,
                                            "setup"},
                                           clock_.NowMs())
                             .ok());
          }
        }
        if (i > 0) {
          tills_.push_back({l.id, "T" + std::to_string(i) + "a", 1, {}, {}});
          tills_.push_back({l.id, "T" + std::to_string(i) + "b", 1, {}, {}});
        }
      }
      // A sale event on the first SKU: online may commit only the ring-fenced units; it ends
      // part-way through the run.
      inventory::SaleEvent event{0, "Sim 12.12", clock_.NowMs(), clock_.NowMs() + Rand(10, 90) * 60000,
                                 2, clock_.NowMs()};
      tx.inventory().InsertSaleEvent(event, {{0, kSkus[0], Rand(1, 4), 0}});
      return Status::Ok();
    });
  }

  std::string Step() {
    switch (Rand(0, 10)) {
      case 10: {  // a transfer leaves the DC for a store, or one in transit arrives
        if (!in_transit_.empty() && Rand(0, 1) == 0) {
          inventory::Transfer t = in_transit_.front();
          in_transit_.erase(in_transit_.begin());
          Write([&](storage::Tx& tx) -> Status {
            auto r = inventory::ReceiveTransfer(tx.inventory(), t.id, clock_.NowMs());
            TANDEM_CHECK(r.ok());
            physical_[{t.sku, t.to_location_id}] += t.quantity;
            return Status::Ok();
          });
          return "transfer in";
        }
        inventory::Transfer t;
        t.sku = kSkus[Rand(0, 2)];
        t.from_location_id = locations_[0].id;
        t.to_location_id = locations_[Rand(1, 2)].id;
        t.quantity = Rand(1, 2);
        Write([&](storage::Tx& tx) -> Status {
          auto r = inventory::StartTransfer(tx.inventory(), t, clock_.NowMs());
          if (!r.ok()) return r.status();  // only free units leave; refused changes nothing
          physical_[{t.sku, t.from_location_id}] -= t.quantity;
          in_transit_.push_back(*r);
          return Status::Ok();
        });
        return "transfer out";
      }
      case 0:
      case 1: {  // a shopper holds units
        int64_t cart = 0;
        std::string sku = kSkus[Rand(0, 2)];
        int64_t qty = Rand(1, 2);
        Write([&](storage::Tx& tx) -> Status {
          auto ctx = Ctx(tx);
          cart = orders::CreateCart(ctx, std::nullopt, "sim").id;
          if (Rand(0, 3) == 0) {
            orders::Fulfillment f;
            f.method = orders::FulfillmentMethod::kPickup;
            f.location_id = locations_[Rand(1, 2)].id;
            TANDEM_RETURN_IF_ERROR(orders::SetFulfillment(ctx, cart, f));
          }
          return Status::Ok();
        });
        Write([&](storage::Tx& tx) {
          auto ctx = Ctx(tx);
          return orders::AddItem(ctx, cart, sku, qty);
        });
        carts_.push_back(cart);
        return "hold " + sku;
      }
      case 2: {  // a shopper checks out
        if (carts_.empty()) return "no cart";
        size_t i = Rand(0, static_cast<int64_t>(carts_.size()) - 1);
        int64_t cart = carts_[i];
        carts_.erase(carts_.begin() + static_cast<long>(i));
        Write([&](storage::Tx& tx) -> Status {
          auto ctx = Ctx(tx);
          orders::CheckoutRequest req;
          req.secrets = orders::NewOrderSecrets(ctx.now_ms);
          req.email = "sim" + std::to_string(Rand(1, 4)) + "@example.my";
          req.address = orders::Address{"S", "1 Jalan", "", "KL", "50000", "MY", ""};
          auto order = orders::Checkout(ctx, cart, req);
          if (!order.ok()) return order.status();
          orders_.push_back(order->id);
          return Status::Ok();
        });
        return "checkout";
      }
      case 3: {  // an order is cancelled or shipped
        if (orders_.empty()) return "no order";
        int64_t id = orders_[Rand(0, static_cast<int64_t>(orders_.size()) - 1)];
        bool cancel = Rand(0, 1) == 0;
        Write([&](storage::Tx& tx) -> Status {
          auto ctx = Ctx(tx);
          std::optional<orders::Order> o = tx.orders().FindOrder(id);
          if (!o || !orders::HoldsAllocation(o->status)) return Status::Ok();
          if (cancel) {
            return orders::TransitionOrder(ctx, id, {orders::OrderStatus::kCancelled, "", "", ""})
                .status();
          }
          // Ship only what is on the shelf: a store whose till has unsent sales may not have it.
          auto allocations = tx.inventory().AllocationsOfOrder(id);
          for (const auto& a : allocations) {
            if (a.open && physical_[{a.sku, a.location_id}] < a.quantity) return Status::Ok();
          }
          bool pickup = o->fulfillment.method == orders::FulfillmentMethod::kPickup;
          for (auto to : {orders::OrderStatus::kProcessing, orders::OrderStatus::kReady,
                          pickup ? orders::OrderStatus::kDelivered : orders::OrderStatus::kShipped}) {
            TANDEM_RETURN_IF_ERROR(orders::TransitionOrder(ctx, id, {to, "", "", ""}).status());
          }
          for (const auto& a : allocations) {
            if (a.open) physical_[{a.sku, a.location_id}] -= a.quantity;
          }
          return Status::Ok();
        });
        return cancel ? "cancel" : "ship";
      }
      case 4:
      case 5: {  // a till sells over the counter, offline
        Till& t = tills_[Rand(0, static_cast<int64_t>(tills_.size()) - 1)];
        std::string sku = kSkus[Rand(0, 2)];
        int64_t& shelf = physical_[{sku, t.location_id}];
        if (shelf == 0) return "nothing to sell";
        int64_t qty = Rand(1, std::min<int64_t>(2, shelf));
        shelf -= qty;
        sync::TillEvent e;
        e.id = t.till_id + "-" + std::to_string(t.next_seq);
        e.seq = t.next_seq++;
        e.type = sync::EventType::kSale;
        e.occurred_ms = clock_.NowMs();
        e.lines.push_back({sku, qty});
        t.unsent.push_back(e);
        return "till sale " + sku;
      }
      case 6:
      case 7: {  // a till uploads: all, a cut batch, reordered, with repeats
        Till& t = tills_[Rand(0, static_cast<int64_t>(tills_.size()) - 1)];
        std::vector<sync::TillEvent> batch;
        size_t take = t.unsent.empty() ? 0 : static_cast<size_t>(Rand(1, static_cast<int64_t>(t.unsent.size())));
        batch.assign(t.unsent.begin(), t.unsent.begin() + static_cast<long>(take));
        if (Rand(0, 2) == 0 && !t.sent.empty()) {
          batch.push_back(t.sent[Rand(0, static_cast<int64_t>(t.sent.size()) - 1)]);
        }
        if (Rand(0, 1) == 0) std::shuffle(batch.begin(), batch.end(), rng_);
        // Upload the later part first sometimes, leaving a gap that must wait.
        if (Rand(0, 3) == 0 && batch.size() > 1) batch.erase(batch.begin());
        if (batch.empty()) return "empty upload";
        Upload(t, batch);
        for (const auto& e : batch) {
          auto it = std::find_if(t.unsent.begin(), t.unsent.end(),
                                 [&](const sync::TillEvent& u) { return u.id == e.id; });
          if (it != t.unsent.end()) {
            t.sent.push_back(*it);
            t.unsent.erase(it);
          }
        }
        return "upload " + std::to_string(batch.size());
      }
      case 8: {  // a full count at a store whose tills have uploaded everything
        const inventory::Location& l = locations_[Rand(1, 2)];
        for (const Till& t : tills_) {
          if (t.location_id == l.id && !t.unsent.empty()) return "count skipped";
        }
        if (PendingAt(l.id) > 0) return "count skipped";
        // The shelf is counted; a miscount is a real variance that the ledger records.
        std::vector<sync::CountLine> lines;
        for (const std::string& sku : kSkus) {
          int64_t& shelf = physical_[{sku, l.id}];
          if (Rand(0, 5) == 0 && shelf > 0) --shelf;  // a unit went missing (shrinkage)
          lines.push_back({sku, shelf});
        }
        Write([&](storage::Tx& tx) -> Status {
          auto sctx = SyncCtx(tx);
          return sync::RecordCount(sctx, l.id, lines, true, "sim count").status();
        });
        return "count";
      }
      default: {  // time passes; expired holds are swept; the DC receives stock
        clock_.Advance(Rand(0, 1) ? kTtlMs / 2 : kTtlMs + 1);
        Write([&](storage::Tx& tx) -> Status {
          inventory::Allocator allocator(tx.inventory(), clock_.NowMs());
          allocator.ReleaseExpiredHolds("", 1000);
          std::string sku = kSkus[Rand(0, 2)];
          int64_t units = Rand(0, 2);
          if (units > 0) {
            physical_[{sku, locations_[0].id}] += units;
            TANDEM_CHECK(inventory::Adjust(tx.inventory(),
                                           {sku, locations_[0].id, units,
                                            inventory::MovementReason::kReceipt, "sim receipt"},
                                           clock_.NowMs())
                             .ok());
          }
          return Status::Ok();
        });
        return "time passes";
      }
    }
  }

  void Upload(const Till& t, const std::vector<sync::TillEvent>& batch) {
    Status s = db_->Write([&](storage::Tx& tx) -> Status {
      auto sctx = SyncCtx(tx);
      return sync::UploadEvents(sctx, t.location_id, t.till_id, batch).status();
    });
    TANDEM_CHECK(s.ok());
  }

  int64_t PendingAt(int64_t location_id) {
    int64_t pending = 0;
    (void)db_->Read([&](storage::Tx& tx) {
      pending = tx.sync().CountEvents(location_id, "pending");
      return Status::Ok();
    });
    return pending;
  }

  inventory::StockLevel Level(const std::string& sku, int64_t location_id) {
    inventory::StockLevel level;
    (void)db_->Read([&](storage::Tx& tx) {
      level = tx.inventory().Level(sku, location_id).value_or(level);
      return Status::Ok();
    });
    return level;
  }

  std::string CheckInvariants() {
    std::string broken;
    Status s = db_->Read([&](storage::Tx& tx) -> Status {
      // I2 conservation and coverage: counters equal their sums; nothing negative; on hand covers
      // what holds and allocations promise (so nothing online is oversold, I1).
      auto found = inventory::FindDiscrepancies(tx.inventory().Totals());
      if (!found.empty()) return Status(Code::kInternal, found.front());
      // Sale events: the counter equals its holds and allocations and never passes the
      // ring-fenced quantity.
      auto event_found = inventory::FindEventDiscrepancies(tx.inventory().EventTotalsOf(0));
      if (!event_found.empty()) return Status(Code::kInternal, event_found.front());
      // Exactly once: every applied till event is in the ledger once per line.
      auto wrong = tx.sync().EventsWithWrongLedger();
      if (!wrong.empty()) return Status(Code::kInternal, "event in the ledger twice: " + wrong[0]);
      // The database lags the shelf exactly by the sales not applied yet.
      std::map<std::pair<std::string, int64_t>, int64_t> unapplied;
      for (const Till& t : tills_) {
        for (const auto* list : {&t.unsent, &t.sent}) {
          for (const auto& e : *list) {
            auto stored = tx.sync().FindEvent(e.id);
            if (stored && stored->status == "applied") continue;
            for (const auto& l : e.lines) unapplied[{l.sku, t.location_id}] += l.quantity;
          }
        }
      }
      for (const auto& [key, shelf] : physical_) {
        auto level = tx.inventory().Level(key.first, key.second);
        int64_t on_hand = level ? level->on_hand : 0;
        if (on_hand != shelf + unapplied[key]) {
          return Status(Code::kInternal, key.first + " at " + std::to_string(key.second) +
                                             ": on hand " + std::to_string(on_hand) + ", shelf " +
                                             std::to_string(shelf) + ", unapplied sales " +
                                             std::to_string(unapplied[key]));
        }
      }
      // Every conflict was resolved: each open order line is allocated or marked unfulfillable,
      // and an order with unfulfillable units has a contact task and a notice in the outbox.
      for (const auto& l : tx.inventory().Locations()) {
        if (tx.sync().CountConflicts(l.id, true) > 0) {
          return Status(Code::kInternal, "unresolved conflict at " + l.name);
        }
      }
      auto tasks = tx.notify().ListContactTasks("", 0, 1000);
      auto outbox = tx.notify().ListOutbox(0, 1000);
      for (int64_t id : orders_) {
        auto o = tx.orders().FindOrder(id);
        if (!o || !orders::HoldsAllocation(o->status)) continue;
        auto allocations = tx.inventory().AllocationsOfOrder(id);
        bool problem = false;
        for (const auto& line : o->lines) {
          int64_t allocated = 0;
          for (const auto& a : allocations) {
            if (a.open && a.line_id == line.id) allocated += a.quantity;
          }
          if (allocated + line.unfulfillable != line.quantity) {
            return Status(Code::kInternal, o->number + " line " + line.sku + ": allocated " +
                                               std::to_string(allocated) + " + unfulfillable " +
                                               std::to_string(line.unfulfillable) + " != " +
                                               std::to_string(line.quantity));
          }
          problem = problem || line.unfulfillable > 0;
        }
        if (problem) {
          bool task = std::any_of(tasks.begin(), tasks.end(),
                                  [&](const notify::ContactTask& t) { return t.order_id == id; });
          bool notice = std::any_of(outbox.begin(), outbox.end(),
                                    [&](const notify::OutboxMessage& m) {
                                      return m.reference == o->number;
                                    });
          if (!task || !notice) {
            return Status(Code::kInternal, o->number + " is unfulfillable without task/notice");
          }
        }
      }
      return Status::Ok();
    });
    if (!s.ok()) broken = s.message();
    return broken;
  }

  std::mt19937_64 rng_;
  std::filesystem::path dir_;
  testing::FakeClock clock_;
  std::unique_ptr<storage::Database> db_;
  std::vector<inventory::Location> locations_;
  std::vector<Till> tills_;
  std::map<std::pair<std::string, int64_t>, int64_t> physical_;  // (sku, location) → on the shelf
  std::vector<int64_t> carts_;
  std::vector<inventory::Transfer> in_transit_;
  std::vector<int64_t> orders_;
};

TEST(SyncSimulation, EveryInvariantHoldsAfterEveryStep) {
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("tandem-sim-" + std::to_string(::getpid()));
  if (const char* one = std::getenv("TANDEM_SIM_SEED")) {
    uint64_t seed = std::strtoull(one, nullptr, 10);
    std::string broken = Simulation(seed, dir).Run();
    EXPECT_EQ(broken, "") << "seed " << seed;
    return;
  }
  int seeds = 2000;
  if (const char* n = std::getenv("TANDEM_SIM_SEEDS")) seeds = std::atoi(n);
  int failed = 0;
  for (int seed = 1; seed <= seeds && failed < 3; ++seed) {
    std::string broken = Simulation(static_cast<uint64_t>(seed), dir).Run();
    if (!broken.empty()) {
      ++failed;
      ADD_FAILURE() << "seed " << seed << " broke an invariant at " << broken
                    << "\nreplay: TANDEM_SIM_SEED=" << seed
                    << " ./tandem_simulation_tests";
    }
  }
  std::filesystem::remove_all(dir);
  std::printf("simulated %d seeds x %d steps\n", seeds, kStepsPerSeed);
}

}  // namespace
}  // namespace tandem
