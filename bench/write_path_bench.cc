// In-process micro-benchmarks of the domain write path on SQLite, durable (each write answered
// after an fdatasync of the WAL): a hold, and a whole checkout (cart, hold, checkout), through the
// Database seam with its group commit; blocking writers, and one thread keeping writes queued.
// Run: build/release/bench/tandem-write-path-bench  (threads = concurrent writers).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
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
  storage::Database& db() { return *db_; }
  orders::OrderContext Ctx(storage::Tx& tx) {
    return {tx.catalog(), tx.inventory(), tx.orders(), clock_.NowMs(), 15 * 60 * 1000, "bench"};
  }

 private:
  std::filesystem::path dir_;
  SystemClock clock_;
  std::unique_ptr<storage::Database> db_;
};

Fixture& Shared() {
  static Fixture fixture;  // built once, before the timed loops
  return fixture;
}

// The whole flash-sale checkout of one unit of `sku` as the server runs it: cart, hold, order.
Status WholeCheckout(orders::OrderContext& ctx, const std::string& sku) {
  orders::Cart cart = orders::CreateCart(ctx, std::nullopt, "h");
  TANDEM_RETURN_IF_ERROR(orders::AddItem(ctx, cart, sku, 1));
  orders::CheckoutRequest req;
  req.email = "bench@example.my";
  req.address = orders::Address{"B", "1 Jalan", "", "KL", "50000", "MY", ""};
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
    TANDEM_CHECK(f.db().Write([&](storage::Tx& tx) -> Status {
                       auto ctx = f.Ctx(tx);
                       return WholeCheckout(ctx, Fixture::Sku(n++ % kHotSkus));
                     }).ok());
  }
  state.SetItemsProcessed(state.iterations());
}

// The whole checkout as the server runs it: one thread keeps up to `range(0)` checkouts queued
// with WriteAsync (no thread waits per write), each counted once durable.
void BM_CheckoutPipelined(benchmark::State& state) {
  Fixture& f = Shared();
  const int64_t window = state.range(0);
  std::mutex mu;
  std::condition_variable cv;
  int64_t in_flight = 0;
  std::atomic<int64_t> failed{0};
  int n = 0;
  for (auto _ : state) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < window; });
      ++in_flight;
    }
    f.db().WriteAsync(
        [&f, sku = Fixture::Sku(n++ % kHotSkus)](storage::Tx& tx) -> Status {
          auto ctx = f.Ctx(tx);
          return WholeCheckout(ctx, sku);
        },
        [&](Status s) {
          if (!s.ok()) failed.fetch_add(1);
          std::lock_guard lock(mu);
          --in_flight;
          cv.notify_all();
        });
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  TANDEM_CHECK(failed.load() == 0);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Hold)->ThreadRange(1, 64)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_Checkout)->ThreadRange(1, 64)->UseRealTime()->MinTime(2.0);
BENCHMARK(BM_CheckoutPipelined)->Arg(64)->Arg(512)->UseRealTime()->MinTime(2.0);

}  // namespace
}  // namespace tandem

BENCHMARK_MAIN();
