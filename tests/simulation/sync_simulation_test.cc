// A deterministic simulation of one retailer, run on every storage engine: shoppers hold, check out
// and cancel online while store tills sell offline and upload late, in cut, repeated and reordered
// batches; counts, receipts, transfers, shipping, a sale event, hold expiry and writes refused on
// purpose happen in between. Steps come in groups of 1..8 whose writes are queued side by side
// (WriteAsync), so one commit may hold several of them; every invariant of SPEC §4 that concerns
// stock, and the model's agreement with the database, is checked after every group. Every tenth
// seed runs durable over a fault-injecting file layer: before some groups a write or a sync fails
// or the disk dies, and after a storage failure (or at random) the power is cut, the database is
// reopened and the model reconciled with what was durable.
//
// A failing seed is printed; TANDEM_SIM_SEED=N replays it, TANDEM_SIM_SEEDS=N sets how many seeds
// run (default 2000). The seed fixes every random choice. How the engine folds queued writes into
// commits is not part of it and may differ from run to run: the checks hold whatever the batching.
// On an engine that runs queued writes one at a time in queue order (SQLite) the outcomes do not
// depend on it, so a seed without faults replays exactly; in a fault seed the batching decides
// which write an armed fault hits, so a replay may take another path from there on.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <random>
#include <set>

#include "tandem/base/limits.h"
#include "tandem/inventory/adjust.h"
#include "tandem/inventory/allocator.h"
#include "tandem/inventory/transfer.h"
#include "tandem/orders/service.h"
#include "tandem/storage/sqlite/sqlite_database.h"
#include "tandem/sync/sync.h"
#include "testing/fake_clock.h"
#include "testing/fault_vfs.h"

namespace tandem {
namespace {

constexpr int kStepsPerSeed = 30;
constexpr int kGroupStepsMax = 8;    // steps whose writes are queued side by side
constexpr int kFaultSeedEvery = 10;  // durable over the fault VFS: slower, so one seed in ten
constexpr int kSeedsDefault = 2000;
constexpr int64_t kTtlMs = 5 * 60 * 1000;
constexpr int64_t kPerCustomerLimit = 2;  // the sale event's, per e-mail
constexpr int kShoppersMax = 4;           // e-mails sim1..sim4@example.my
constexpr auto kAnswerWaitMax = std::chrono::seconds(120);
const std::vector<std::string> kSkus{"SIM-A", "SIM-B", "SIM-C"};

using Key = std::pair<std::string, int64_t>;  // (SKU, location)

// ---- Engines -----------------------------------------------------------------------------------

struct EngineOptions {
  bool durable = false;  // a write answered ok survives a power cut (slower); fault seeds need it
  std::string vfs;       // the SQLite VFS to open through; "" for the default
};

struct Engine {
  std::string name;
  // Opens the database kept in `dir`: a new one when the folder is empty, else what the folder
  // holds (after a power cut: what was durable).
  std::function<Result<std::unique_ptr<storage::Database>>(const std::filesystem::path& dir,
                                                           const EngineOptions& options)>
      open;
  bool fault_vfs = false;      // opens through the fault-injecting SQLite VFS
  bool serial_writes = false;  // runs writes one at a time: no guard ever meets a concurrent write
};

// Every engine the simulation runs on, here and nowhere else: the PostgreSQL adapter joins this
// list as one more entry (its factory opening a schema of its own for the folder).
std::vector<Engine> Engines() {
  return {
      {"sqlite",
       [](const std::filesystem::path& dir, const EngineOptions& o) {
         return storage::sqlite::OpenSqlite(
             {(dir / "sim.db").string(), true, o.durable, kWriteQueueMax, o.vfs});
       },
       /*fault_vfs=*/true, /*serial_writes=*/true},
  };
}

// ---- Faults ------------------------------------------------------------------------------------

// Where faults plug in: the fault-injecting VFS (testing/fault_vfs.h) under the engine. Used by
// the test's thread only.
class Faults {
 public:
  const std::string& vfs() const { return vfs_.name(); }

  struct Armed {
    std::string what;
    // A failed write breaks nothing lasting: the process may restart without a power cut. (After
    // a failed sync or a dead disk no later sync would be durable until the power is cut.)
    bool restart_may_keep_power = false;
  };
  // Arms one fault, counted from now, with `rng`. The ranges cover a group's tracked writes and
  // syncs, mostly 1-3 and 0-2: a group's writes are folded into one to three commits, each
  // written to the WAL at once (storage/sqlite/wal_vfs.h), and a sync may cover several.
  Armed Arm(std::mt19937_64& rng) {
    auto pick = [&](int64_t lo, int64_t hi) {
      return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    const int64_t kind = pick(0, 2);
    if (kind == 0) {
      const int64_t n = pick(0, 1);
      vfs_.FailWriteAfter(n);
      return {"write " + std::to_string(n + 1) + " fails", true};
    }
    if (kind == 1) {
      const int64_t n = pick(0, 1);
      vfs_.FailSyncAfter(n);
      return {"sync " + std::to_string(n + 1) + " fails", false};
    }
    const int64_t n = pick(0, 2);
    vfs_.DieAfter(n);
    return {"the disk dies after " + std::to_string(n) + " writes and syncs", false};
  }
  // Drops the plans that did not fire.
  void Disarm() { vfs_.ClearFaults(); }
  // The power goes now: nothing more reaches the disk, a database closing included.
  void Die() { vfs_.DieAfter(0); }
  // Power comes back: every file as its last sync left it. No connection may be open.
  void PowerCut() { vfs_.PowerCut(); }
  // The first call a fault failed since the last power cut; "" when none did.
  std::string FirstFault() const { return vfs_.FirstFault(); }

 private:
  testing::FaultVfs vfs_;
};

// ---- The simulation ----------------------------------------------------------------------------

struct Till {
  int64_t location_id = 0;
  std::string till_id;
  int64_t next_seq = 1;
  std::vector<sync::TillEvent> unsent;  // recorded offline, never uploaded
  std::vector<sync::TillEvent> sent;    // uploaded at least once (may be re-sent; may be lost)
};

// What happened over a test's seeds, to show that each path ran.
struct Stats {
  int64_t groups = 0;
  int64_t writes = 0;
  int64_t multi_write_groups = 0;
  int64_t reruns = 0;  // write functions run again (a batch undone and run again)
  int64_t faults_armed = 0;
  int64_t failures = 0;  // groups after which the database was unhealthy (sticky)
  int64_t power_cuts = 0;
  int64_t restarts = 0;      // after a storage failure, without a power cut
  int64_t unknown = 0;       // writes answered kUnavailable, looked up after the group
  int64_t unknown_kept = 0;  // ... and found kept
};

enum class Expect {
  kSucceeds,      // refused only by a storage failure
  kMayBeRefused,  // a guard or a rule may refuse it
  kRefused,       // refused on purpose, after changing something
};

// One write of a group, made when the group is planned. Its function may run more than once
// before its answer (database.h, Retries): each run first clears what an earlier run recorded in
// the state it shares with `copies` and `apply`, and no run touches the model, which learns of
// the write through `apply`, after the group, once the write is known to be kept.
struct PlannedWrite {
  std::string what;
  Expect expect = Expect::kMayBeRefused;
  storage::TxFunction fn;
  // How many times the write's effect is in the database (0 or 1; more: applied twice), by what
  // identifies it as its last run recorded; -1 when it leaves nothing of its own to look up
  // (then `apply` changes nothing either).
  std::function<int(storage::Tx&)> copies;
  std::function<void()> apply;  // may be empty
  // A refused write must leave no copy (false where other writes may store the same thing).
  bool refusal_checked = true;
  Status status;  // the answer (set by `done`)
  int runs = 0;   // written by the engine's thread, read once every write was answered
};

// What the writes planned so far in a group have claimed: later steps of the group leave it
// alone, so that no write of a group depends on another's effect.
struct GroupPlan {
  std::set<int64_t> orders;      // shipped or cancelled by a write of the group
  std::set<int64_t> transfers;   // received by a write of the group
  std::map<Key, int64_t> shelf;  // units a shipment or a count's shrinkage takes off the shelf
  std::set<int64_t> touched;     // locations whose on hand a write of the group changes
  std::set<int64_t> counted;     // locations counted in the group
};

std::string Email(int64_t shopper) { return "sim" + std::to_string(shopper) + "@example.my"; }

std::string Describe(const Status& s) {
  return s.ok() ? "ok" : std::string(CodeName(s.code())) + ": " + s.message();
}

int MovementsWithReference(storage::Tx& tx, const std::string& sku, int64_t location_id,
                           const std::string& reference) {
  int found = 0;
  for (const auto& m : tx.inventory().MovementsOf(sku, location_id, 0, 100000)) {
    if (m.reference == reference) ++found;
  }
  return found;
}

class Simulation {
 public:
  Simulation(const Engine& engine, Faults* faults, uint64_t seed, const std::filesystem::path& dir,
             Stats& stats)
      : engine_(engine), faults_(faults), seed_(seed), rng_(seed), dir_(dir), stats_(stats) {}

  // Runs the seed; returns "" or the first broken invariant with the group that broke it.
  std::string Run() {
    if (faults_ != nullptr) {
      // Whatever a seed that broke left armed or broken goes (no connection is open).
      faults_->Disarm();
      faults_->PowerCut();
    }
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    if (std::string failed = Open(); !failed.empty()) return "open: " + failed;
    if (std::string failed = Setup(); !failed.empty()) return "setup: " + failed;
    if (std::string broken = CheckInvariants(); !broken.empty()) return "after setup: " + broken;
    int group = 0;
    for (int step = 0; step < kStepsPerSeed; ++group) {
      const int steps =
          static_cast<int>(std::min<int64_t>(Rand(1, kGroupStepsMax), kStepsPerSeed - step));
      if (std::string broken = RunGroup(steps); !broken.empty()) {
        return "group " + std::to_string(group) + " (steps " + std::to_string(step) + "-" +
               std::to_string(step + steps - 1) + ") " + broken;
      }
      step += steps;
    }
    // Finally every till uploads everything: the database must meet the physical world.
    for (Till& t : tills_) {
      t.sent.insert(t.sent.end(), t.unsent.begin(), t.unsent.end());
      t.unsent.clear();
      if (std::string failed = Upload(t, t.sent); !failed.empty()) return "final: " + failed;
    }
    if (std::string broken = CheckFinal(); !broken.empty()) return "final: " + broken;
    if (faults_ != nullptr) {
      // Every write was answered ok or looked up: all of it is durable.
      if (std::string failed = PowerCut(); !failed.empty()) return "final: " + failed;
      if (std::string broken = CheckFinal(); !broken.empty()) {
        return "final, after a power cut: " + broken;
      }
    }
    db_.reset();
    std::filesystem::remove_all(dir_);
    return "";
  }

 private:
  int64_t Rand(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& from) {
    return from[static_cast<size_t>(Rand(0, static_cast<int64_t>(from.size()) - 1))];
  }

  static orders::OrderContext Ctx(storage::Tx& tx, int64_t now) {
    return orders::OrderContext{tx.catalog(), tx.inventory(), tx.orders(), now, kTtlMs, "sim"};
  }
  static sync::SyncContext SyncCtx(storage::Tx& tx, int64_t now) {
    return sync::SyncContext{tx.catalog(), tx.inventory(), tx.orders(), tx.notify(),
                             tx.sync(),    tx.accounts(),  now};
  }

  std::string Open() {
    EngineOptions options;
    if (faults_ != nullptr) options = {true, faults_->vfs()};
    auto db = engine_.open(dir_, options);
    if (!db.ok()) return db.status().message();
    db_ = std::move(db.value());
    return "";
  }

  // The power goes out and comes back; the database is reopened on what was durable.
  std::string PowerCut() {
    ++stats_.power_cuts;
    faults_->Die();
    db_.reset();
    faults_->PowerCut();
    if (std::string failed = Open(); !failed.empty()) return "reopen after a power cut: " + failed;
    return "";
  }

  std::string Setup() {
    struct Planned {
      inventory::Location location;
      std::map<std::string, int64_t> units;
    };
    std::vector<Planned> planned;
    for (int i = 0; i < 3; ++i) {
      inventory::Location l;
      l.code = "L" + std::to_string(i);
      l.name = i == 0 ? "DC" : "Store " + std::to_string(i);
      l.kind =
          i == 0 ? inventory::LocationKind::kDistributionCentre : inventory::LocationKind::kStore;
      l.ships_orders = true;
      l.pickup = i > 0;
      l.sells_in_store = i > 0;
      l.safety_stock_default = i > 0 ? Rand(0, 1) : 0;
      Planned p{l, {}};
      for (const std::string& sku : kSkus) p.units[sku] = Rand(0, 5);
      planned.push_back(p);
    }
    // A sale event on the first SKU: online may commit only the ring-fenced units; it ends
    // part-way through the run.
    const int64_t now = clock_.NowMs();
    const inventory::SaleEvent event{
        0, "Sim 12.12", now, now + Rand(10, 90) * 60000, kPerCustomerLimit, now};
    const int64_t ring_fenced = Rand(1, 4);
    std::vector<int64_t> ids;
    int64_t event_id = 0;
    Status s = db_->Write([&](storage::Tx& tx) -> Status {
      ids.clear();
      for (const std::string& sku : kSkus) {
        catalog::Product p;
        p.name = "Sim " + sku;
        p.variants.push_back({sku, 0, {1000, "MYR"}, {}, "", true});
        TANDEM_RETURN_IF_ERROR(catalog::CreateProduct(tx.catalog(), p, now).status());
      }
      for (const Planned& p : planned) {
        const int64_t id = tx.inventory().InsertLocation(p.location);
        ids.push_back(id);
        for (const auto& [sku, units] : p.units) {
          tx.inventory().EnsureLevel(sku, id, p.location.safety_stock_default);
          if (units == 0) continue;
          TANDEM_RETURN_IF_ERROR(
              inventory::Adjust(tx.inventory(),
                                {sku, id, units, inventory::MovementReason::kReceipt, "setup"}, now)
                  .status());
        }
      }
      event_id = tx.inventory().InsertSaleEvent(event, {{0, kSkus[0], ring_fenced, 0}});
      return Status::Ok();
    });
    if (!s.ok()) return Describe(s);
    event_id_ = event_id;
    for (size_t i = 0; i < planned.size(); ++i) {
      inventory::Location l = planned[i].location;
      l.id = ids[i];
      locations_.push_back(l);
      for (const auto& [sku, units] : planned[i].units) physical_[{sku, l.id}] = units;
      if (i > 0) {
        tills_.push_back({l.id, "T" + std::to_string(i) + "a", 1, {}, {}});
        tills_.push_back({l.id, "T" + std::to_string(i) + "b", 1, {}, {}});
      }
    }
    return "";
  }

  // Plans 1..8 steps, queues their writes side by side (under a fault, sometimes), waits for
  // every answer, cuts the power when storage failed (or at random, in a fault seed), then
  // reconciles the model with the database and checks every invariant.
  std::string RunGroup(int steps) {
    GroupPlan plan;
    std::vector<PlannedWrite> writes;
    std::string actions;
    for (int i = 0; i < steps; ++i) actions += (i > 0 ? ", " : "") + Step(plan, writes);
    std::string fault;
    bool cut_anyway = false;  // a power cut after the group, storage failed or not
    bool keep_power = false;  // after a storage failure, the process restarts, the power stays
    if (faults_ != nullptr) {
      if (Rand(0, 1) == 0) {
        Faults::Armed armed = faults_->Arm(rng_);
        fault = armed.what;
        keep_power = armed.restart_may_keep_power && Rand(0, 3) != 0;
      }
      cut_anyway = Rand(0, 5) == 0;
    }
    std::string where = "(" + actions + (fault.empty() ? "" : "; fault: " + fault) +
                        (keep_power ? ", then a restart" : "") + (cut_anyway ? "; power cut" : "") +
                        ")";
    ++stats_.groups;
    stats_.writes += static_cast<int64_t>(writes.size());
    if (writes.size() > 1) ++stats_.multi_write_groups;
    if (!fault.empty()) ++stats_.faults_armed;

    SubmitAndWait(writes);
    if (!fault.empty()) faults_->Disarm();
    if (!fault.empty()) {
      if (std::string first = faults_->FirstFault(); !first.empty()) where += "; failed: " + first;
    }

    bool storage_failed = false;
    std::string probe;
    if (Status health = db_->Health(); !health.ok()) {
      if (faults_ == nullptr) {
        return where + ": storage failed without a fault: " + health.message();
      }
      storage_failed = true;
      ++stats_.failures;
      // Sticky: every write is refused until the database is reopened.
      probe = "sim-probe-" + std::to_string(next_++);
      Status s = db_->Write([&](storage::Tx& tx) {
        tx.PutSetting(probe, "1");
        return Status::Ok();
      });
      if (s.code() != Code::kUnavailable) {
        return where + ": a write after a storage failure was answered " + Describe(s);
      }
    }
    if (cut_anyway || (storage_failed && !keep_power)) {
      if (std::string failed = PowerCut(); !failed.empty()) return where + ": " + failed;
    } else if (storage_failed) {
      // What reached the files stays there: a write answered kUnavailable whose commit was
      // written before the failure comes back with the WAL.
      ++stats_.restarts;
      db_.reset();
      if (std::string failed = Open(); !failed.empty()) return where + ": reopen: " + failed;
    }
    if (!probe.empty()) {
      bool kept = true;
      (void)db_->Read([&](storage::Tx& tx) {
        kept = tx.GetSetting(probe).has_value();
        return Status::Ok();
      });
      if (kept) return where + ": a write refused after a storage failure was kept";
    }
    if (std::string broken = Reconcile(writes, storage_failed); !broken.empty()) {
      return where + ": " + broken;
    }
    if (std::string broken = CheckInvariants(); !broken.empty()) return where + ": " + broken;
    return "";
  }

  // Queues every write of the group without waiting, then waits for all their answers.
  void SubmitAndWait(std::vector<PlannedWrite>& writes) {
    struct Answers {
      std::mutex mu;
      std::condition_variable cv;
      size_t count = 0;
    } answers;
    for (PlannedWrite& w : writes) {
      PlannedWrite* p = &w;
      db_->WriteAsync(
          [p](storage::Tx& tx) {
            ++p->runs;
            return p->fn(tx);
          },
          [p, &answers](Status s) {
            std::lock_guard lock(answers.mu);
            p->status = std::move(s);
            ++answers.count;
            answers.cv.notify_all();
          });
    }
    std::unique_lock lock(answers.mu);
    if (!answers.cv.wait_for(lock, kAnswerWaitMax,
                             [&] { return answers.count == writes.size(); })) {
      // The answers would outlive this frame: nothing sensible is left to do.
      std::fprintf(stderr, "seed %llu: a write was never answered\n",
                   static_cast<unsigned long long>(seed_));
      std::abort();
    }
  }

  // Each write answered ok must be in the database, once; one refused must not be; one whose
  // outcome is unknown (kUnavailable; or kInternal after a storage failure) is looked up. The
  // model takes each kept write's update, in the order the writes were queued.
  std::string Reconcile(std::vector<PlannedWrite>& writes, bool storage_failed) {
    std::vector<int> copies(writes.size(), -1);
    Status read = db_->Read([&](storage::Tx& tx) {
      for (size_t i = 0; i < writes.size(); ++i) {
        if (writes[i].copies) copies[i] = writes[i].copies(tx);
      }
      return Status::Ok();
    });
    if (!read.ok()) return "reading the writes back: " + Describe(read);
    for (size_t i = 0; i < writes.size(); ++i) {
      PlannedWrite& w = writes[i];
      const Status& s = w.status;
      stats_.reruns += std::max(0, w.runs - 1);
      if (w.expect == Expect::kRefused) {
        if (s.ok()) return w.what + " was answered ok";
        if (copies[i] != 0) return "refused write kept: " + w.what + " (" + Describe(s) + ")";
        continue;
      }
      if (copies[i] > 1) {
        return w.what + " is in the database " + std::to_string(copies[i]) +
               " times (or in part), answered " + Describe(s);
      }
      const bool unknown = faults_ != nullptr && (s.code() == Code::kUnavailable ||
                                                  (storage_failed && s.code() == Code::kInternal));
      if (s.ok()) {
        if (copies[i] == 0) return "acknowledged write lost: " + w.what;
        if (w.apply) w.apply();
      } else if (unknown) {
        ++stats_.unknown;
        if (copies[i] == 1) {
          ++stats_.unknown_kept;
          if (w.apply) w.apply();
        }
      } else {
        if (s.code() == Code::kUnavailable || s.code() == Code::kInternal ||
            w.expect == Expect::kSucceeds) {
          return w.what + " answered " + Describe(s);
        }
        if (w.refusal_checked && copies[i] == 1) {
          return "refused write kept: " + w.what + " (" + Describe(s) + ")";
        }
      }
    }
    return "";
  }

  // One step: a change in the physical world, and the write that tells the database (if any),
  // planned from the model as it was when the group began (plus `plan`). Returns what it did.
  std::string Step(GroupPlan& plan, std::vector<PlannedWrite>& writes) {
    const int64_t now = clock_.NowMs();
    const std::string n = std::to_string(next_++);  // makes references unique within the seed
    switch (Rand(0, 11)) {
      case 10: {  // a transfer leaves the DC for a store, or one in transit arrives
        std::optional<inventory::Transfer> arriving;
        for (const inventory::Transfer& t : in_transit_) {
          if (!plan.transfers.count(t.id) && !plan.counted.count(t.to_location_id)) {
            arriving = t;
            break;
          }
        }
        if (arriving && Rand(0, 1) == 0) {
          const inventory::Transfer t = *arriving;
          plan.transfers.insert(t.id);
          plan.touched.insert(t.to_location_id);
          PlannedWrite w;
          w.what = "transfer " + std::to_string(t.id) + " in";
          w.expect = Expect::kSucceeds;
          w.fn = [t, now](storage::Tx& tx) {
            return inventory::ReceiveTransfer(tx.inventory(), t.id, now).status();
          };
          w.copies = [t](storage::Tx& tx) {
            auto found = tx.inventory().FindTransfer(t.id);
            return found && found->status == "received" ? 1 : 0;
          };
          w.apply = [this, t] {
            physical_[{t.sku, t.to_location_id}] += t.quantity;
            std::erase_if(in_transit_, [&](const inventory::Transfer& u) { return u.id == t.id; });
            received_.insert(t.id);
          };
          writes.push_back(std::move(w));
          return "transfer in";
        }
        inventory::Transfer t;
        t.sku = kSkus[Rand(0, 2)];
        t.from_location_id = locations_[0].id;
        t.to_location_id = locations_[Rand(1, 2)].id;
        t.quantity = Rand(1, 2);
        t.note = "sim transfer " + n;
        plan.touched.insert(t.from_location_id);
        auto made = std::make_shared<inventory::Transfer>();
        PlannedWrite w;
        w.what = "transfer out (" + t.note + ")";
        w.fn = [t, now, made](storage::Tx& tx) -> Status {
          *made = {};
          // Only free units leave; a refusal comes after the transfer's row was inserted.
          auto r = inventory::StartTransfer(tx.inventory(), t, now);
          if (!r.ok()) return r.status();
          *made = *r;
          return Status::Ok();
        };
        w.copies = [made, note = t.note](storage::Tx& tx) {
          if (made->id == 0) return 0;
          auto found = tx.inventory().FindTransfer(made->id);
          return found && found->note == note ? 1 : 0;
        };
        w.apply = [this, made] {
          physical_[{made->sku, made->from_location_id}] -= made->quantity;
          in_transit_.push_back(*made);
        };
        writes.push_back(std::move(w));
        return "transfer out";
      }
      case 0:
      case 1: {  // a shopper holds units: a new cart, maybe for pick-up, and its first line
        const std::string sku = kSkus[Rand(0, 2)];
        const int64_t qty = Rand(1, 2);
        std::optional<int64_t> pickup;
        if (Rand(0, 3) == 0) pickup = locations_[Rand(1, 2)].id;
        const std::string token = "sim-cart-" + n;
        auto cart = std::make_shared<int64_t>(0);
        PlannedWrite w;
        w.what = "hold " + sku + " (" + token + ")";
        w.fn = [=](storage::Tx& tx) -> Status {
          *cart = 0;
          auto ctx = Ctx(tx, now);
          // Recorded before anything may refuse: a refused hold must leave no cart behind.
          *cart = orders::CreateCart(ctx, std::nullopt, token).id;
          if (pickup) {
            orders::Fulfillment f;
            f.method = orders::FulfillmentMethod::kPickup;
            f.location_id = *pickup;
            TANDEM_RETURN_IF_ERROR(orders::SetFulfillment(ctx, *cart, f));
          }
          return orders::AddItem(ctx, *cart, sku, qty);
        };
        w.copies = [cart, token](storage::Tx& tx) {
          if (*cart == 0) return 0;
          auto found = tx.orders().FindCart(*cart);
          return found && found->token_hash == token ? 1 : 0;
        };
        w.apply = [this, cart] { carts_.push_back(*cart); };
        writes.push_back(std::move(w));
        return "hold " + sku;
      }
      case 2: {  // a shopper checks out (a cart made before this group)
        if (carts_.empty()) return "no cart";
        const size_t i = static_cast<size_t>(Rand(0, static_cast<int64_t>(carts_.size()) - 1));
        const int64_t cart = carts_[i];
        carts_.erase(carts_.begin() + static_cast<long>(i));  // checked out or given up
        orders::CheckoutRequest req;
        req.secrets = orders::NewOrderSecrets(now);
        req.email = Email(Rand(1, kShoppersMax));
        req.address = orders::Address{"S", "1 Jalan", "", "KL", "50000", "MY", ""};
        auto order = std::make_shared<int64_t>(0);
        PlannedWrite w;
        w.what = "checkout of cart " + std::to_string(cart);
        // A refusal past the sale event's per-customer limit comes after the order number was
        // drawn: the batch is undone and runs again.
        w.fn = [cart, req, now, order](storage::Tx& tx) -> Status {
          *order = 0;
          auto ctx = Ctx(tx, now);
          auto placed = orders::Checkout(ctx, cart, req);
          if (!placed.ok()) return placed.status();
          *order = placed->id;
          return Status::Ok();
        };
        w.copies = [order, hash = req.secrets.access_token_hash](storage::Tx& tx) {
          if (*order == 0) return 0;
          auto found = tx.orders().FindOrder(*order);
          return found && found->access_token_hash == hash ? 1 : 0;
        };
        w.apply = [this, order] { orders_.push_back(*order); };
        writes.push_back(std::move(w));
        return "checkout";
      }
      case 3: {  // an order is cancelled or shipped
        std::vector<int64_t> free;
        for (int64_t id : orders_) {
          if (!plan.orders.count(id)) free.push_back(id);
        }
        if (free.empty()) return "no order";
        const int64_t id = Pick(free);
        const bool cancel = Rand(0, 1) == 0;
        plan.orders.insert(id);
        return cancel ? PlanCancel(id, now, writes) : PlanShip(id, now, plan, writes);
      }
      case 4:
      case 5: {  // a till sells over the counter, offline
        Till& t = tills_[static_cast<size_t>(Rand(0, static_cast<int64_t>(tills_.size()) - 1))];
        const std::string sku = kSkus[Rand(0, 2)];
        const Key key{sku, t.location_id};
        const int64_t free = physical_[key] - plan.shelf[key];  // a shipment may have taken some
        if (free <= 0) return "nothing to sell";
        const int64_t qty = Rand(1, std::min<int64_t>(2, free));
        physical_[key] -= qty;
        sync::TillEvent e;
        e.id = t.till_id + "-" + std::to_string(t.next_seq);
        e.seq = t.next_seq++;
        e.type = sync::EventType::kSale;
        e.occurred_ms = now;
        e.lines.push_back({sku, qty});
        t.unsent.push_back(e);
        return "till sale " + sku;
      }
      case 6:
      case 7: {  // a till uploads: all, a cut batch, reordered, with repeats
        Till& t = tills_[static_cast<size_t>(Rand(0, static_cast<int64_t>(tills_.size()) - 1))];
        if (plan.counted.count(t.location_id)) return "upload skipped (counting)";
        std::vector<sync::TillEvent> batch;
        const size_t take =
            t.unsent.empty() ? 0
                             : static_cast<size_t>(Rand(1, static_cast<int64_t>(t.unsent.size())));
        batch.assign(t.unsent.begin(), t.unsent.begin() + static_cast<long>(take));
        if (Rand(0, 2) == 0 && !t.sent.empty()) batch.push_back(Pick(t.sent));
        if (Rand(0, 1) == 0) std::shuffle(batch.begin(), batch.end(), rng_);
        // Upload the later part first sometimes, leaving a gap that must wait.
        if (Rand(0, 3) == 0 && batch.size() > 1) batch.erase(batch.begin());
        if (batch.empty()) return "empty upload";
        for (const auto& e : batch) {
          auto it = std::find_if(t.unsent.begin(), t.unsent.end(),
                                 [&](const sync::TillEvent& u) { return u.id == e.id; });
          if (it != t.unsent.end()) {
            t.sent.push_back(*it);
            t.unsent.erase(it);
          }
        }
        plan.touched.insert(t.location_id);
        PlannedWrite w;
        w.what = "upload of " + std::to_string(batch.size()) + " from " + t.till_id;
        // Two uploads of one till in a group may meet on an engine that runs writes side by
        // side: the guard refuses one (kConflict) and its events stay sent, to be sent again.
        w.expect = engine_.serial_writes ? Expect::kSucceeds : Expect::kMayBeRefused;
        w.refusal_checked = false;
        const int64_t location = t.location_id;
        const std::string till = t.till_id;
        w.fn = [location, till, batch, now](storage::Tx& tx) {
          auto sctx = SyncCtx(tx, now);
          return sync::UploadEvents(sctx, location, till, batch).status();
        };
        // The model reads what became of each event from the database; only check they are in.
        w.copies = [batch](storage::Tx& tx) {
          for (const auto& e : batch) {
            if (!tx.sync().FindEvent(e.id)) return 0;
          }
          return 1;
        };
        writes.push_back(std::move(w));
        return "upload " + std::to_string(batch.size());
      }
      case 8: {  // a full count at a store whose tills have uploaded everything
        const inventory::Location& l = locations_[Rand(1, 2)];
        if (plan.touched.count(l.id) || !AllApplied(l.id)) return "count skipped";
        // The shelf is counted; a miscount is a real variance that the ledger records. The unit
        // that went missing (shrinkage) is kept off the shelf for the rest of the group and gone
        // from the model once the count is kept; should the count be lost, it was found again.
        std::vector<sync::CountLine> lines;
        std::map<std::string, int64_t> shrink;
        for (const std::string& sku : kSkus) {
          int64_t shelf = physical_[{sku, l.id}];
          if (Rand(0, 5) == 0 && shelf > 0) {
            --shelf;
            shrink[sku] = 1;
          }
          lines.push_back({sku, shelf});
        }
        for (const auto& [sku, units] : shrink) plan.shelf[{sku, l.id}] += units;
        plan.touched.insert(l.id);
        plan.counted.insert(l.id);
        const std::string reference = "sim count " + n;
        const int64_t location = l.id;
        PlannedWrite w;
        w.what = reference + " at " + l.name;
        w.expect = Expect::kSucceeds;
        w.fn = [location, lines, reference, now](storage::Tx& tx) {
          auto sctx = SyncCtx(tx, now);
          return sync::RecordCount(sctx, location, lines, true, reference).status();
        };
        if (!shrink.empty()) {
          w.copies = [location, shrink, reference](storage::Tx& tx) {
            int found = 0;
            for (const auto& [sku, units] : shrink) {
              found += MovementsWithReference(tx, sku, location, reference);
            }
            if (found == 0) return 0;
            return found == static_cast<int>(shrink.size()) ? 1 : 2;
          };
          w.apply = [this, location, shrink] {
            for (const auto& [sku, units] : shrink) physical_[{sku, location}] -= units;
          };
        }
        writes.push_back(std::move(w));
        return "count";
      }
      case 9: {  // time passes; expired holds are swept; the DC receives stock
        clock_.Advance(Rand(0, 1) ? kTtlMs / 2 : kTtlMs + 1);
        const int64_t later = clock_.NowMs();
        const std::string sku = kSkus[Rand(0, 2)];
        const int64_t units = Rand(0, 2);
        const int64_t dc = locations_[0].id;
        const std::string reference = "sim receipt " + n;
        plan.touched.insert(dc);
        PlannedWrite w;
        w.what = "time passes (" + reference + ")";
        w.expect = Expect::kSucceeds;
        w.fn = [=](storage::Tx& tx) -> Status {
          inventory::Allocator allocator(tx.inventory(), later);
          allocator.ReleaseExpiredHolds("", 1000);
          if (units == 0) return Status::Ok();
          return inventory::Adjust(tx.inventory(),
                                   {sku, dc, units, inventory::MovementReason::kReceipt, reference},
                                   later)
              .status();
        };
        if (units > 0) {
          w.copies = [=](storage::Tx& tx) {
            return MovementsWithReference(tx, sku, dc, reference);
          };
          w.apply = [this, sku, dc, units] { physical_[{sku, dc}] += units; };
        }
        writes.push_back(std::move(w));
        return "time passes";
      }
      default: {  // a write refused after changing something: it must leave nothing behind
        const std::string sku = kSkus[Rand(0, 2)];
        const int64_t dc = locations_[0].id;
        const std::string reference = "sim refused " + n;
        plan.touched.insert(dc);
        PlannedWrite w;
        w.what = reference;
        w.expect = Expect::kRefused;
        w.fn = [=](storage::Tx& tx) -> Status {
          TANDEM_RETURN_IF_ERROR(
              inventory::Adjust(tx.inventory(),
                                {sku, dc, 1, inventory::MovementReason::kReceipt, reference}, now)
                  .status());
          tx.PutSetting(reference, "1");
          return Status(Code::kConflict, "refused on purpose");
        };
        w.copies = [=](storage::Tx& tx) {
          return MovementsWithReference(tx, sku, dc, reference) +
                 (tx.GetSetting(reference) ? 1 : 0);
        };
        writes.push_back(std::move(w));
        return "refused on purpose";
      }
    }
  }

  std::string PlanCancel(int64_t id, int64_t now, std::vector<PlannedWrite>& writes) {
    auto acted = std::make_shared<bool>(false);
    PlannedWrite w;
    w.what = "cancel of order " + std::to_string(id);
    w.fn = [id, now, acted](storage::Tx& tx) -> Status {
      *acted = false;
      auto ctx = Ctx(tx, now);
      std::optional<orders::Order> o = tx.orders().FindOrder(id);
      if (!o || !orders::HoldsAllocation(o->status)) return Status::Ok();
      *acted = true;
      return orders::TransitionOrder(ctx, id, {orders::OrderStatus::kCancelled, "", "", ""})
          .status();
    };
    w.copies = [id, acted](storage::Tx& tx) {
      if (!*acted) return -1;
      auto o = tx.orders().FindOrder(id);
      return o && o->status == orders::OrderStatus::kCancelled ? 1 : 0;
    };
    writes.push_back(std::move(w));
    return "cancel";
  }

  // Ships only what is on the shelf: a store whose till has unsent sales may not have it. The
  // units the order's open allocations name as the group begins are kept off the shelf for the
  // rest of the group; should its allocations move meanwhile (a store sale's conflict), the
  // write ships nothing.
  std::string PlanShip(int64_t id, int64_t now, GroupPlan& plan,
                       std::vector<PlannedWrite>& writes) {
    std::map<Key, int64_t> need;
    bool holds = false;
    (void)db_->Read([&](storage::Tx& tx) {
      std::optional<orders::Order> o = tx.orders().FindOrder(id);
      holds = o && orders::HoldsAllocation(o->status);
      for (const auto& a : tx.inventory().AllocationsOfOrder(id)) {
        if (a.open) need[{a.sku, a.location_id}] += a.quantity;
      }
      return Status::Ok();
    });
    if (!holds) return "ship (nothing held)";
    for (const auto& [key, units] : need) {
      if (plan.counted.count(key.second) || physical_[key] - plan.shelf[key] < units) {
        return "ship (not on the shelf)";
      }
    }
    for (const auto& [key, units] : need) {
      plan.shelf[key] += units;
      plan.touched.insert(key.second);
    }
    auto shipped = std::make_shared<std::map<Key, int64_t>>();
    auto acted = std::make_shared<bool>(false);
    PlannedWrite w;
    w.what = "shipment of order " + std::to_string(id);
    w.fn = [id, now, need, shipped, acted](storage::Tx& tx) -> Status {
      shipped->clear();
      *acted = false;
      auto ctx = Ctx(tx, now);
      std::optional<orders::Order> o = tx.orders().FindOrder(id);
      if (!o || !orders::HoldsAllocation(o->status)) return Status::Ok();
      auto allocations = tx.inventory().AllocationsOfOrder(id);
      std::map<Key, int64_t> open;
      for (const auto& a : allocations) {
        if (a.open) open[{a.sku, a.location_id}] += a.quantity;
      }
      for (const auto& [key, units] : open) {
        auto kept = need.find(key);
        if (kept == need.end() || kept->second < units) return Status::Ok();
      }
      *acted = true;
      const bool pickup = o->fulfillment.method == orders::FulfillmentMethod::kPickup;
      for (auto to : {orders::OrderStatus::kProcessing, orders::OrderStatus::kReady,
                      pickup ? orders::OrderStatus::kDelivered : orders::OrderStatus::kShipped}) {
        TANDEM_RETURN_IF_ERROR(orders::TransitionOrder(ctx, id, {to, "", "", ""}).status());
      }
      *shipped = open;
      return Status::Ok();
    };
    w.copies = [id, acted](storage::Tx& tx) {
      if (!*acted) return -1;
      auto o = tx.orders().FindOrder(id);
      return o && (o->status == orders::OrderStatus::kShipped ||
                   o->status == orders::OrderStatus::kDelivered)
                 ? 1
                 : 0;
    };
    w.apply = [this, shipped] {
      for (const auto& [key, units] : *shipped) physical_[key] -= units;
    };
    writes.push_back(std::move(w));
    return "ship";
  }

  // Every sale the location's tills made is applied: the database's on hand is the shelf.
  bool AllApplied(int64_t location_id) {
    bool all = true;
    (void)db_->Read([&](storage::Tx& tx) {
      if (tx.sync().CountEvents(location_id, "pending") > 0) all = false;
      for (const Till& t : tills_) {
        if (t.location_id != location_id) continue;
        if (!t.unsent.empty()) all = false;
        for (const auto& e : t.sent) {
          auto stored = tx.sync().FindEvent(e.id);
          if (!stored || stored->status != "applied") all = false;
        }
      }
      return Status::Ok();
    });
    return all;
  }

  std::string Upload(const Till& t, const std::vector<sync::TillEvent>& batch) {
    const int64_t now = clock_.NowMs();
    Status s = db_->Write([&](storage::Tx& tx) -> Status {
      auto sctx = SyncCtx(tx, now);
      return sync::UploadEvents(sctx, t.location_id, t.till_id, batch).status();
    });
    return s.ok() ? "" : "upload from " + t.till_id + ": " + Describe(s);
  }

  std::string CheckFinal() {
    if (std::string broken = CheckInvariants(); !broken.empty()) return broken;
    std::string broken;
    (void)db_->Read([&](storage::Tx& tx) {
      for (const auto& [key, units] : physical_) {
        auto level = tx.inventory().Level(key.first, key.second);
        const int64_t on_hand = level ? level->on_hand : 0;
        if (on_hand != units && broken.empty()) {
          broken = key.first + " at " + std::to_string(key.second) + " on hand " +
                   std::to_string(on_hand) + " but " + std::to_string(units) + " on the shelf";
        }
      }
      return Status::Ok();
    });
    return broken;
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
      // The sale event's per-customer limit: no shopper bought more of its SKU than it allows.
      for (int i = 1; i <= kShoppersMax; ++i) {
        const int64_t bought = tx.inventory().Purchased(event_id_, "email:" + Email(i), kSkus[0]);
        if (bought > kPerCustomerLimit) {
          return Status(Code::kInternal, Email(i) + " bought " + std::to_string(bought) + " of " +
                                             kSkus[0] + " in the sale event");
        }
      }
      // Exactly once: every applied till event is in the ledger once per line.
      auto wrong = tx.sync().EventsWithWrongLedger();
      if (!wrong.empty()) return Status(Code::kInternal, "event in the ledger twice: " + wrong[0]);
      // The database lags the shelf exactly by the sales not applied yet (a receipt, a transfer,
      // a shipment or a count lost or applied twice shows here too).
      std::map<Key, int64_t> unapplied;
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
      // The model's orders, transfers and open carts are the database's: none lost, none twice.
      std::set<int64_t> stored_orders;
      orders::OrderFilter filter;
      filter.limit = 100;
      for (;;) {
        auto page = tx.orders().ListOrders(filter);
        for (const auto& o : page) stored_orders.insert(o.id);
        if (page.size() < static_cast<size_t>(filter.limit)) break;
        filter.before_id = page.back().id;
      }
      if (stored_orders != std::set<int64_t>(orders_.begin(), orders_.end())) {
        return Status(Code::kInternal, "the database holds " +
                                           std::to_string(stored_orders.size()) +
                                           " orders, the model " + std::to_string(orders_.size()));
      }
      std::set<int64_t> model_in_transit;
      for (const auto& t : in_transit_) model_in_transit.insert(t.id);
      for (const auto& [status, model] :
           {std::pair{"in_transit", &model_in_transit}, std::pair{"received", &received_}}) {
        std::set<int64_t> stored;
        for (const auto& t : tx.inventory().Transfers(status, 0, 100000)) stored.insert(t.id);
        if (stored != *model) {
          return Status(Code::kInternal, std::to_string(stored.size()) + " transfers " + status +
                                             " in the database, " + std::to_string(model->size()) +
                                             " in the model");
        }
      }
      for (int64_t cart : carts_) {
        auto c = tx.orders().FindCart(cart);
        if (!c || !c->open) {
          return Status(Code::kInternal, "cart " + std::to_string(cart) + " is not open");
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
                                               std::to_string(line.unfulfillable) +
                                               " != " + std::to_string(line.quantity));
          }
          problem = problem || line.unfulfillable > 0;
        }
        if (problem) {
          bool task = std::any_of(tasks.begin(), tasks.end(),
                                  [&](const notify::ContactTask& t) { return t.order_id == id; });
          bool notice =
              std::any_of(outbox.begin(), outbox.end(),
                          [&](const notify::OutboxMessage& m) { return m.reference == o->number; });
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

  const Engine& engine_;
  Faults* faults_;  // null: no faults, not durable
  const uint64_t seed_;
  std::mt19937_64 rng_;
  std::filesystem::path dir_;
  Stats& stats_;
  testing::FakeClock clock_;
  std::unique_ptr<storage::Database> db_;
  int64_t next_ = 1;  // numbers the steps' references
  std::vector<inventory::Location> locations_;
  int64_t event_id_ = 0;
  std::vector<Till> tills_;
  std::map<Key, int64_t> physical_;  // (SKU, location) → on the shelf
  std::vector<int64_t> carts_;       // open carts with a line
  std::vector<inventory::Transfer> in_transit_;
  std::set<int64_t> received_;  // transfers received
  std::vector<int64_t> orders_;
};

void PrintTo(const Engine& engine, std::ostream* os) { *os << engine.name; }

class SyncSimulation : public ::testing::TestWithParam<Engine> {};

TEST_P(SyncSimulation, EveryInvariantHoldsAfterEveryGroup) {
  const Engine& engine = GetParam();
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("tandem-sim-" + engine.name + "-" + std::to_string(::getpid()));
  std::optional<Faults> faults;
  if (engine.fault_vfs) faults.emplace();
  auto faults_of = [&](uint64_t seed) -> Faults* {
    return faults && seed % kFaultSeedEvery == 0 ? &*faults : nullptr;
  };
  Stats stats;
  if (const char* one = std::getenv("TANDEM_SIM_SEED")) {
    const uint64_t seed = std::strtoull(one, nullptr, 10);
    std::string broken = Simulation(engine, faults_of(seed), seed, dir, stats).Run();
    EXPECT_EQ(broken, "") << "seed " << seed << (faults_of(seed) ? " (faults)" : "");
    std::filesystem::remove_all(dir);
    return;
  }
  int seeds = kSeedsDefault;
  if (const char* n = std::getenv("TANDEM_SIM_SEEDS")) seeds = std::atoi(n);
  int failed = 0;
  int ran = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int seed = 1; seed <= seeds && failed < 3; ++seed, ++ran) {
    const auto s = static_cast<uint64_t>(seed);
    std::string broken = Simulation(engine, faults_of(s), s, dir, stats).Run();
    if (!broken.empty()) {
      ++failed;
      ADD_FAILURE() << "seed " << seed << (faults_of(s) ? " (faults)" : "")
                    << " broke an invariant at " << broken << "\nreplay: TANDEM_SIM_SEED=" << seed
                    << " ./tandem_simulation_tests --gtest_filter='*/" << engine.name << "'";
    }
  }
  std::filesystem::remove_all(dir);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%s: %d seeds x %d steps in %.0f s: %lld groups (%lld of several writes), %lld writes, "
      "%lld write functions run again; %lld faults armed, %lld storage failures, %lld power "
      "cuts, %lld restarts, %lld writes of unknown outcome (%lld kept)\n",
      engine.name.c_str(), ran, kStepsPerSeed, seconds, static_cast<long long>(stats.groups),
      static_cast<long long>(stats.multi_write_groups), static_cast<long long>(stats.writes),
      static_cast<long long>(stats.reruns), static_cast<long long>(stats.faults_armed),
      static_cast<long long>(stats.failures), static_cast<long long>(stats.power_cuts),
      static_cast<long long>(stats.restarts), static_cast<long long>(stats.unknown),
      static_cast<long long>(stats.unknown_kept));
  // A run of the default size must have gone down every path it claims to check.
  if (seeds >= kSeedsDefault && failed == 0) {
    EXPECT_GT(stats.multi_write_groups, 0);
    EXPECT_GT(stats.reruns, 0) << "no batch was undone and run again";
    if (engine.fault_vfs) {
      EXPECT_GT(stats.failures, 0) << "no fault made storage fail";
      EXPECT_GT(stats.unknown_kept, 0) << "no write of unknown outcome was found kept";
      EXPECT_GT(stats.unknown, stats.unknown_kept) << "no write of unknown outcome was lost";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, SyncSimulation, ::testing::ValuesIn(Engines()),
                         [](const ::testing::TestParamInfo<Engine>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace tandem
