// The composition root shared by the server and the CLI: configuration, opening the database in
// the data folder, and the commands `tandem serve | user add | demo | migrate | check | backup`.
// Each function is called from main's thread; the server it starts runs its own threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tandem/base/clock.h"
#include "tandem/base/limits.h"
#include "tandem/base/result.h"
#include "tandem/customers/accounts.h"
#include "tandem/storage/database.h"

namespace tandem::app {

struct Config {
  std::string data_dir = "./data";
  std::string listen = "127.0.0.1:8080";
  int threads = 0;     // worker threads; 0: kWorkerThreadsDefault
  int io_threads = 0;  // 0: one per core but one (at least one)
  int request_timeout_seconds = kRequestSecondsMax;
  // Overload: past these a request is answered 503 with Retry-After at once.
  int max_connections = kConnectionsMax;
  int64_t max_queued_requests = kQueuedRequestsMax;  // waiting for a worker thread
  int64_t max_queued_writes = kWriteQueueMax;        // waiting for the writer
  int hash_threads = 0;                              // password-hashing threads; 0: one per core
  int64_t max_queued_hashes = kQueuedHashesMax;      // logins and sign-ups waiting for one
  int64_t session_ttl_seconds = kSessionTtlSecondsDefault;  // renewed when half is left
  int64_t hold_ttl_seconds = 900;
  int64_t hold_sweep_ms = 1000;
  int64_t check_interval_seconds = 300;  // the server runs `tandem check` this often
  int64_t stale_after_seconds = 900;     // a store whose tills were silent this long is stale
  std::string log_level = "info";
  // After "order placed".
  std::string public_url;  // the shop's address for links; empty: http://<listen>
  std::string card_provider_url;  // Stripe's API or the simulator; empty: no card payments
  std::string card_secret_key;
  std::string card_webhook_secret;
  std::string carrier_webhook_secret;
  int64_t unpaid_bank_transfer_seconds = kUnpaidBankTransferSecondsDefault;
  int64_t unpaid_card_seconds = kUnpaidCardSecondsDefault;
  int64_t pickup_uncollected_seconds = kPickupUncollectedSecondsDefault;
  int64_t expiry_sweep_ms = 60'000;  // how often unpaid orders and uncollected pick-ups expire
  int tax_rate_bp = 600;
};

// data_dir/tandem.db
std::string DatabasePath(const Config& config);
// Creates the data folder when missing and opens the database (applying migrations).
Result<std::unique_ptr<storage::Database>> OpenDatabase(const Config& config);

// Serves HTTP until SIGTERM/SIGINT. Returns the process exit code.
int Serve(const Config& config);

// Creates a staff (or customer) account. kEmailTaken when it exists.
Status AddUser(storage::Database& db, const Clock& clock, customers::Registration registration);

struct DemoLogin {
  std::string email;
  std::string password;
  std::string role;
};
// Loads the demo catalogue, locations, stock and accounts; a second run adds nothing.
Result<std::vector<DemoLogin>> LoadDemo(storage::Database& db, const Clock& clock);

// Runs the consistency check: on_hand = Σ ledger, reserved = Σ holds, allocated = Σ open
// allocations, nothing negative, every till event in the ledger exactly once, every conflict
// resolved. Appends each discrepancy to `report`; returns how many there were.
Result<int> CheckInventory(storage::Database& db, std::string* report);

// Releases expired holds; returns how many. Run periodically by the server.
Result<int> SweepExpiredHolds(storage::Database& db, const Clock& clock);
// Cancels unpaid bank-transfer and card orders and uncollected pick-ups past their time (their
// stock goes back); returns how many.
Result<int> SweepExpiredOrders(storage::Database& db, const Clock& clock, const Config& config);

}  // namespace tandem::app
