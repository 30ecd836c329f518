#include "tandem/app/app.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "tandem/api/api.h"
#include "tandem/api/http_server.h"
#include "tandem/base/crypto.h"
#include "tandem/base/limits.h"
#include "tandem/inventory/allocator.h"
#include "tandem/providers/stripe_client.h"
#include "tandem/storage/sqlite/sqlite_database.h"

namespace tandem::app {
namespace {

// Calls `fn` every `period_ms` on its own thread until destroyed.
class Ticker {
 public:
  Ticker(int64_t period_ms, std::function<void()> fn)
      : thread_([this, period_ms, fn = std::move(fn)] {
          std::unique_lock lock(mu_);
          while (!cv_.wait_for(lock, std::chrono::milliseconds(period_ms),
                               [this] { return stop_; })) {
            lock.unlock();
            fn();
            lock.lock();
          }
        }) {}
  ~Ticker() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

std::string DatabasePath(const Config& config) { return config.data_dir + "/tandem.db"; }

Result<std::unique_ptr<storage::Database>> OpenDatabase(const Config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return Status(Code::kUnavailable, "cannot create " + config.data_dir + ": " + ec.message());
  storage::sqlite::SqliteOptions options;
  options.path = DatabasePath(config);
  options.write_queue_max = static_cast<size_t>(config.max_queued_writes);
  return storage::sqlite::OpenSqlite(options);
}

Result<int> SweepExpiredHolds(storage::Database& db, const Clock& clock) {
  int released = 0;
  Status s = db.Write([&](storage::Tx& tx) {
    inventory::Allocator allocator(tx.inventory(), clock.NowMs());
    released = allocator.ReleaseExpiredHolds("", kHoldSweepBatchMax);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return released;
}

Result<int> SweepExpiredOrders(storage::Database& db, const Clock& clock, const Config& config) {
  int expired = 0;
  Status s = db.Write([&](storage::Tx& tx) {
    orders::OrderContext octx{tx.catalog(), tx.inventory(), tx.orders(), clock.NowMs(), 0,
                              "system", {}};
    payments::PaymentContext pay{octx, tx.payments(), tx.notify(), {}, {}};
    fulfillment::FulfillmentContext ful{pay, tx.fulfillment()};
    expired = payments::ExpireUnpaidOrders(pay, config.unpaid_bank_transfer_seconds * 1000,
                                           config.unpaid_card_seconds * 1000,
                                           kExpirySweepBatchMax);
    expired += fulfillment::ExpireUncollected(ful, config.pickup_uncollected_seconds * 1000,
                                              kExpirySweepBatchMax);
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return expired;
}

int Serve(const Config& config) {
  size_t colon = config.listen.rfind(':');
  int port = colon == std::string::npos ? -1 : std::atoi(config.listen.c_str() + colon + 1);
  if (port < 0 || port > 65535) {
    spdlog::error("--listen must be HOST:PORT, got {}", config.listen);
    return 2;
  }
  Result<std::unique_ptr<storage::Database>> db = OpenDatabase(config);
  if (!db.ok()) {
    spdlog::error("cannot open the database: {}", db.status().message());
    return 1;
  }
  SystemClock clock;
  api::ApiOptions options;
  options.hold_ttl_ms = config.hold_ttl_seconds * 1000;
  options.stale_after_ms = config.stale_after_seconds * 1000;
  options.worker_threads = config.threads > 0 ? config.threads : kWorkerThreadsDefault;
  options.queued_requests_max = static_cast<size_t>(config.max_queued_requests);
  options.data_dir = config.data_dir;
  options.public_url = config.public_url.empty() ? "http://" + config.listen : config.public_url;
  options.seller.tax_rate_bp = config.tax_rate_bp;
  options.payment_webhook_secret = config.card_webhook_secret;
  options.carrier_webhook_secret = config.carrier_webhook_secret;
  std::unique_ptr<providers::StripeClient> card;
  if (!config.card_provider_url.empty()) {
    card = std::make_unique<providers::StripeClient>(
        providers::StripeConfig{config.card_provider_url, config.card_secret_key});
    options.card = card.get();
  }
  options.hash_threads = config.hash_threads;
  options.queued_hashes_max = static_cast<size_t>(config.max_queued_hashes);
  options.session_ttl_ms = config.session_ttl_seconds * 1000;
  api::Api api(**db, clock, options);
  api::ServerOptions server_options;
  server_options.host = config.listen.substr(0, colon);
  server_options.port = static_cast<uint16_t>(port);
  // By default one I/O thread per core but one: the writer thread keeps a core busy under load
  // (on 2 cores, 1 I/O thread measured ~5-10 % more checkouts/s than 2; docs/performance.md).
  server_options.threads =
      config.io_threads > 0
          ? config.io_threads
          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
  server_options.request_seconds = config.request_timeout_seconds;
  server_options.connections_max = config.max_connections;
  api::HttpServer server(server_options, [&api](api::Request& r, api::Respond respond) {
    api.Handle(r, std::move(respond));
  });
  Status started = server.Start();
  if (!started.ok()) {
    spdlog::error("{}", started.message());
    return 1;
  }
  Ticker sweeper(config.hold_sweep_ms, [&] {
    Result<int> released = SweepExpiredHolds(**db, clock);
    if (!released.ok()) {
      spdlog::warn("hold sweep failed: {}", released.status().message());
    } else if (*released > 0) {
      spdlog::info("released {} expired hold(s)", *released);
    }
  });
  Ticker expirer(config.expiry_sweep_ms, [&] {
    Result<int> expired = SweepExpiredOrders(**db, clock, config);
    if (!expired.ok()) {
      spdlog::warn("order expiry sweep failed: {}", expired.status().message());
    } else if (*expired > 0) {
      spdlog::info("expired {} unpaid order(s) or uncollected pick-up(s)", *expired);
    }
  });
  Ticker checker(config.check_interval_seconds * 1000, [&] {
    std::string report;
    Result<int> found = CheckInventory(**db, &report);
    if (!found.ok()) {
      spdlog::warn("periodic check failed: {}", found.status().message());
    } else if (*found > 0) {
      // Reported, never silently "fixed": a person must look at the cause.
      spdlog::error("periodic check found {} discrepancy(ies):\n{}", *found, report);
    }
  });
  api.SetReady(true);
  std::printf("tandem listening on http://%s:%u\n", server_options.host.c_str(), server.port());
  std::fflush(stdout);
  spdlog::info("serving {} with {} I/O and {} worker threads, data in {}", config.listen,
               server_options.threads, options.worker_threads, config.data_dir);
  server.Run();
  api.SetReady(false);
  spdlog::info("stopped");
  return 0;
}

Status AddUser(storage::Database& db, const Clock& clock, customers::Registration r) {
  TANDEM_RETURN_IF_ERROR(customers::ValidateRegistration(r));
  std::string hash = HashPassword(r.password);
  if (hash.empty()) return Status(Code::kUnavailable, "out of memory hashing the password");
  return db.Write([&](storage::Tx& tx) -> Status {
    return customers::CreateAccount(tx.accounts(), r, hash, clock.NowMs()).status();
  });
}

Result<int> CheckInventory(storage::Database& db, std::string* report) {
  std::vector<std::string> found;
  Status s = db.Read([&](storage::Tx& tx) {
    found = inventory::FindDiscrepancies(tx.inventory().Totals());
    for (std::string& d : inventory::FindEventDiscrepancies(tx.inventory().EventTotalsOf(0))) {
      found.push_back(std::move(d));
    }
    // Exactly once: every applied till event is in the ledger once per line.
    for (const std::string& id : tx.sync().EventsWithWrongLedger()) {
      found.push_back("till event " + id + ": its ledger movements do not match its lines");
    }
    // I5, gapless invoice numbers, and every shipped unit out of the ledger once.
    for (std::string& d : tx.payments().Discrepancies()) found.push_back(std::move(d));
    for (std::string& d : tx.fulfillment().Discrepancies()) found.push_back(std::move(d));
    // Every stock conflict was resolved by policy (re-allocated, or a contact task opened).
    for (const auto& l : tx.inventory().Locations()) {
      if (int64_t open = tx.sync().CountConflicts(l.id, true); open > 0) {
        found.push_back(l.name + ": " + std::to_string(open) + " stock conflict(s) unresolved");
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  for (const auto& line : found) *report += line + "\n";
  return static_cast<int>(found.size());
}

}  // namespace tandem::app
