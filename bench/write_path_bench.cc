// In-process micro-benchmarks of the domain write path on SQLite, durable (each write answered
// after an fdatasync of the WAL): a hold, a whole checkout (cart, hold, checkout) and the checkout
// of a cart that holds its unit, through the Database seam with its group commit; blocking
// writers, and one thread keeping writes queued. Beside them, the machine's ceiling for those
// figures: the bare loop of two rows per checkout on plain SQLite.
// Run: build/release/bench/tandem-write-path-bench  (threads = concurrent writers).
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "tandem/base/clock.h"
#include "tandem/base/crypto.h"
#include "tandem/catalog/catalog.h"
#include "tandem/inventory/adjust.h"
#include "tandem/orders/service.h"
#include "tandem/storage/sqlite/sqlite_database.h"

namespace tandem {
namespace {

constexpr int kHotSkus = 20;
constexpr int64_t kUnitsPerSku = 1'000'000;  // kStockDeltaMax: one receipt

// One database per process, stocked with hot SKUs at one distribution centre.
class Fixture {
 public:
  Fixture() {
    InitCrypto();
    dir_ = std::filesystem::temp_directory_path() / ("tandem-bench-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    db_ = std::move(storage::sqlite::OpenSqlite({(dir_ / "tandem.db").string(), true, true}).value());
    Status s = db_->Write([&](storage::Tx& tx) -> Status {
      inventory::Location dc;
      dc.code = "DC";
      dc.name = "DC";
      dc.kind = inventory::LocationKind::kDistributionCentre;
      dc.ships_orders = true;
      dc.id = tx.inventory().InsertLocation(dc);
      for (int i = 0; i < kHotSkus; ++i) {
        catalog::Product p;
        p.name = "Hot " + std::to_string(i);
        p.variants.push_back({Sku(i), 0, {4990, "MYR"}, {}, "", true});
        TANDEM_CHECK(catalog::CreateProduct(tx.catalog(), p, clock_.NowMs()).ok());
        TANDEM_CHECK(inventory::Adjust(tx.inventory(),
                                       {Sku(i), dc.id, kUnitsPerSku,
                                        inventory::MovementReason::kReceipt, "bench"},
                                       clock_.NowMs())
                         .ok());
      }
      return Status::Ok();
    });
    TANDEM_CHECK(s.ok());
  }
  ~Fixture() {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }

  static std::string Sku(int i) { return "HOT-" + std::to_string(i); }
  // The next shopper's delivery checkout, made before its write as the server makes it (the
  // order's secrets off the writer thread). Every checkout's shopper is another, as in a flash
  // sale (and the load generator's): the same e-mail every time would link each order to the one
  // before (order_links, two rows each). Their e-mails are unrelated (scrambled), not in the
  // order they come.
  orders::CheckoutRequest NextCheckout() {
    char name[17];
    std::snprintf(name, sizeof name, "%016llx",
                  static_cast<unsigned long long>(shoppers_++ * 0x9E3779B97F4A7C15ull));
    orders::CheckoutRequest req;
    req.secrets = orders::NewOrderSecrets(clock_.NowMs());
    req.email = std::string(name) + "@bench.example.my";
    req.address = orders::Address{"B", "1 Jalan", "", "KL", "50000", "MY", ""};
    return req;
  }
  storage::Database& db() { return *db_; }
  orders::OrderContext Ctx(storage::Tx& tx) {
    return {tx.catalog(), tx.inventory(), tx.orders(), clock_.NowMs(), 15 * 60 * 1000, "bench"};
  }

 private:
  std::filesystem::path dir_;
  SystemClock clock_;
  std::unique_ptr<storage::Database> db_;
  std::atomic<int64_t> shoppers_{0};
};

Fixture& Shared() {
  static Fixture fixture;  // built once, before the timed loops
  return fixture;
}

// The writer thread's ("tandem-writer") time on a core over the timed parts of a run, from the
// scheduler's account (/proc/self/task/*/schedstat). Per checkout it varies much less than
// throughput on a shared VM, whose speed drifts by 10-20 % between runs: time stolen by the host
// is not counted. Reported as the counter writer_us, per item.
class WriterTime {
 public:
  WriterTime() { Resume(); }
  void Resume() { at_ns_ = Now(); }
  void Pause() { ns_ += Now() - at_ns_; }
  void Report(benchmark::State& state) const {
    state.counters["writer_us"] =
        static_cast<double>(ns_) / 1000.0 / static_cast<double>(state.iterations());
  }

 private:
  static int64_t Now() {
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      std::string comm;
      std::getline(std::ifstream(task.path() / "comm"), comm);
      if (comm != "tandem-writer") continue;
      int64_t ns = 0;
      std::ifstream(task.path() / "schedstat") >> ns;
      return ns;
    }
    return 0;
  }
  int64_t at_ns_ = 0;
  int64_t ns_ = 0;
};

// A new cart that holds one unit of `sku`.
Status HeldCart(orders::OrderContext& ctx, const std::string& sku, orders::Cart& cart) {
  cart = orders::CreateCart(ctx, std::nullopt, "h");
  return orders::AddItem(ctx, cart, sku, 1);
}

// The whole flash-sale checkout of one unit of `sku` as the server runs it: cart, hold, order.
Status WholeCheckout(orders::OrderContext& ctx, const std::string& sku,
                     const orders::CheckoutRequest& req) {
  orders::Cart cart;
  TANDEM_RETURN_IF_ERROR(HeldCart(ctx, sku, cart));
  return orders::Checkout(ctx, std::move(cart), req).status();
}

// A cart and a hold of one unit, in one durable write.
void BM_Hold(benchmark::State& state) {
  Fixture& f = Shared();
  int n = static_cast<int>(state.thread_index());
  for (auto _ : state) {
    int64_t cart = 0;
    TANDEM_CHECK(f.db().Write([&](storage::Tx& tx) {
                       auto ctx = f.Ctx(tx);
                       cart = orders::CreateCart(ctx, std::nullopt, "h").id;
                       return orders::AddItem(ctx, cart, Fixture::Sku(n++ % kHotSkus), 1);
                     }).ok());
  }
  state.SetItemsProcessed(state.iterations());
}

// The whole flash-sale checkout in one durable write: cart, hold, checkout.
void BM_Checkout(benchmark::State& state) {
  Fixture& f = Shared();
  int n = static_cast<int>(state.thread_index());
  for (auto _ : state) {
    orders::CheckoutRequest req = f.NextCheckout();
    TANDEM_CHECK(f.db().Write([&](storage::Tx& tx) -> Status {
                       auto ctx = f.Ctx(tx);
                       return WholeCheckout(ctx, Fixture::Sku(n++ % kHotSkus), req);
                     }).ok());
  }
  state.SetItemsProcessed(state.iterations());
}

// Keeps up to `window` writes queued with WriteAsync from one thread, as the server does (no
// thread waits per write); each counts once durable.
class Pipeline {
 public:
  Pipeline(storage::Database& db, int64_t window) : db_(db), window_(window) {}
  ~Pipeline() { Drain(); }

  void Submit(storage::TxFunction fn) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return in_flight_ < window_; });  // see the answer's wake-up below
      ++in_flight_;
    }
    db_.WriteAsync(std::move(fn), [this](Status s) {
      std::lock_guard lock(mu_);
      if (!s.ok()) ++failed_;
      // The submitting thread is woken when half the window is free (or all of it), not once
      // per write: woken per write, it took most of a core from the writer it measures.
      if (--in_flight_ == window_ / 2 || in_flight_ == 0) cv_.notify_all();
    });
  }

  // Waits until every write submitted is answered; all must have succeeded.
  void Drain() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ == 0; });
    TANDEM_CHECK(failed_ == 0);
  }

 private:
  storage::Database& db_;
  const int64_t window_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t in_flight_ = 0;
  int64_t failed_ = 0;
};

// The whole checkout as the server runs it (cart, hold, checkout in one durable write), with
// between half and all of `range(0)` queued. The last iteration waits for every answer, so the
// writes still in flight are timed too.
void BM_CheckoutPipelined(benchmark::State& state) {
  Fixture& f = Shared();
  Pipeline pipeline(f.db(), state.range(0));
  int n = 0;
  benchmark::IterationCount done = 0;
  WriterTime writer;
  for (auto _ : state) {
    pipeline.Submit([&f, sku = Fixture::Sku(n++ % kHotSkus),
                     req = f.NextCheckout()](storage::Tx& tx) -> Status {
      auto ctx = f.Ctx(tx);
      return WholeCheckout(ctx, sku, req);
    });
    if (++done == state.max_iterations) pipeline.Drain();
  }
  writer.Pause();
  state.SetItemsProcessed(state.iterations());
  writer.Report(state);
}

// The checkout alone, as the server's checkout request runs it: a cart holding one unit is read
// by id and checked out, each in a durable write of its own, between half and all of `range(0)`
// queued. The carts and their holds are made (durably, untimed) in rounds of at most
// kCartsPerRound just before their checkouts, as a flash sale makes them seconds before: carts
// made long before would have their pages out of the writer's cache. Each round's checkouts are
// waited for before the next round is made (timed: they are checkouts).
void BM_CheckoutOfHeldCarts(benchmark::State& state) {
  constexpr benchmark::IterationCount kCartsPerRound = 20'000;
  Fixture& f = Shared();
  Pipeline pipeline(f.db(), state.range(0));
  std::vector<int64_t> carts;
  size_t next = 0;
  int n = 0;
  benchmark::IterationCount done = 0;
  WriterTime writer;  // while checkouts ran; the untimed rounds of carts are left out
  for (auto _ : state) {
    if (next == carts.size()) {
      pipeline.Drain();
      writer.Pause();
      state.PauseTiming();
      // No more carts than the iterations left: none is left holding stock after the run.
      carts.assign(static_cast<size_t>(std::min<benchmark::IterationCount>(
                       kCartsPerRound, state.max_iterations - done)),
                   0);
      next = 0;
      for (int64_t& id : carts) {
        pipeline.Submit([&f, &id, sku = Fixture::Sku(n++ % kHotSkus)](storage::Tx& tx) {
          auto ctx = f.Ctx(tx);
          orders::Cart cart;
          Status held = HeldCart(ctx, sku, cart);
          id = cart.id;
          return held;
        });
      }
      pipeline.Drain();
      writer.Resume();
      state.ResumeTiming();
    }
    pipeline.Submit([&f, id = carts[next++], req = f.NextCheckout()](storage::Tx& tx) -> Status {
      auto ctx = f.Ctx(tx);
      return orders::Checkout(ctx, id, req).status();
    });
    if (++done == state.max_iterations) pipeline.Drain();
  }
  writer.Pause();
  state.SetItemsProcessed(state.iterations());
  writer.Report(state);
}

// A plain SQLite database (WAL, synchronous=FULL, SQLite's own VFS) in a directory of its own,
// removed with it; for the benchmarks below, which measure SQLite without Tandem.
class BareDatabase {
 public:
  BareDatabase(const std::string& name, const char* schema)
      : dir_(std::filesystem::temp_directory_path() /
             ("tandem-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    TANDEM_CHECK(sqlite3_open((dir_ / "bare.db").c_str(), &db_) == SQLITE_OK);
    Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    Exec(schema);
  }
  ~BareDatabase() {
    for (sqlite3_stmt* s : statements_) sqlite3_finalize(s);
    sqlite3_close(db_);
    std::filesystem::remove_all(dir_);
  }
  BareDatabase(const BareDatabase&) = delete;
  BareDatabase& operator=(const BareDatabase&) = delete;

  void Exec(const char* sql) {
    TANDEM_CHECK(sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  sqlite3_stmt* Prepare(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    TANDEM_CHECK(sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
    statements_.push_back(s);
    return s;
  }
  // Runs a bound statement that returns no row, and resets it.
  void Run(sqlite3_stmt* s) {
    TANDEM_CHECK(sqlite3_step(s) == SQLITE_DONE);
    sqlite3_reset(s);
  }
  int Changes() { return sqlite3_changes(db_); }

 private:
  std::filesystem::path dir_;
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
};

// The bare loop, this machine's ceiling for the checkouts above: a checkout is a
// conditional update of a stock row and an insert of an order row, with no domain code and no
// other table or index, on plain SQLite, one thread, a durable commit every range(0) checkouts.
void BM_BareCheckoutLoop(benchmark::State& state) {
  BareDatabase bare("bare",
                    "CREATE TABLE stock (sku TEXT PRIMARY KEY, available INTEGER NOT NULL) "
                    "WITHOUT ROWID;"
                    "CREATE TABLE orders (id INTEGER PRIMARY KEY, sku TEXT NOT NULL, "
                    "quantity INTEGER NOT NULL, created_ms INTEGER NOT NULL);");
  std::vector<std::string> skus;
  for (int i = 0; i < kHotSkus; ++i) {
    skus.push_back(Fixture::Sku(i));
    bare.Exec(("INSERT INTO stock VALUES ('" + skus.back() + "', 1000000000)").c_str());
  }
  sqlite3_stmt* take =
      bare.Prepare("UPDATE stock SET available = available - 1 WHERE sku = ? AND available >= 1");
  sqlite3_stmt* order =
      bare.Prepare("INSERT INTO orders (sku, quantity, created_ms) VALUES (?, 1, ?)");
  SystemClock clock;
  const int64_t per_commit = state.range(0);
  int64_t n = 0;
  bare.Exec("BEGIN");
  for (auto _ : state) {
    const std::string& sku = skus[static_cast<size_t>(n % kHotSkus)];
    sqlite3_bind_text(take, 1, sku.data(), static_cast<int>(sku.size()), SQLITE_STATIC);
    bare.Run(take);
    TANDEM_CHECK(bare.Changes() == 1);
    sqlite3_bind_text(order, 1, sku.data(), static_cast<int>(sku.size()), SQLITE_STATIC);
    sqlite3_bind_int64(order, 2, clock.NowMs());
    bare.Run(order);
    if (++n % per_commit == 0) bare.Exec("COMMIT; BEGIN");
  }
  bare.Exec("COMMIT");  // the last checkouts are durable too, and timed
  state.SetItemsProcessed(state.iterations());
}

// What a statement costs by itself: order-like rows (two unique text indexes on ascending keys,
// as an order's number and tracking code) inserted range(0) to a statement, 256 rows to a
// durable commit. The difference per row between 1 and 64 rows a statement is the statement's
// own run, paid once per statement whatever it writes.
void BM_RowsPerStatement(benchmark::State& state) {
  BareDatabase bare("rows",
                    "CREATE TABLE orders (id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE, "
                    "code TEXT NOT NULL UNIQUE, email TEXT NOT NULL, name TEXT NOT NULL, "
                    "address TEXT NOT NULL, total INTEGER NOT NULL, created_ms INTEGER NOT NULL);");
  const int rows = static_cast<int>(state.range(0));
  std::string sql = "INSERT INTO orders (number, code, email, name, address, total, created_ms) "
                    "VALUES ";
  for (int i = 0; i < rows; ++i) sql += i ? ",(?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?)";
  sqlite3_stmt* insert = bare.Prepare(sql);
  const std::string email(40, 'e'), name(30, 'n'), address(120, 'a');
  constexpr int kRowsPerCommit = 256;
  int64_t n = 0;
  char number[32], code[32];
  bare.Exec("BEGIN");
  for (auto _ : state) {
    int p = 1;
    for (int i = 0; i < rows; ++i, ++n) {
      std::snprintf(number, sizeof number, "TD-2026-%09lld", static_cast<long long>(n));
      std::snprintf(code, sizeof code, "%012llx", static_cast<long long>(n));
      sqlite3_bind_text(insert, p++, number, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, p++, code, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(insert, p++, email.data(), static_cast<int>(email.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert, p++, name.data(), static_cast<int>(name.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert, p++, address.data(), static_cast<int>(address.size()),
                        SQLITE_STATIC);
      sqlite3_bind_int64(insert, p++, 1999);
      sqlite3_bind_int64(insert, p++, n);
    }
    bare.Run(insert);
    if (n % kRowsPerCommit == 0) bare.Exec("COMMIT; BEGIN");
  }
  bare.Exec("COMMIT");
  state.SetItemsProcessed(state.iterations() * rows);
}

BENCHMARK(BM_Hold)->ThreadRange(1, 64)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_Checkout)->ThreadRange(1, 64)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_CheckoutPipelined)->Arg(64)->Arg(512)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_CheckoutOfHeldCarts)->Arg(64)->Arg(512)->Arg(4096)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_BareCheckoutLoop)->Arg(100)->Arg(512)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_RowsPerStatement)->Arg(1)->Arg(64)->UseRealTime()->MinTime(2.0);

}  // namespace
}  // namespace tandem

BENCHMARK_MAIN();
