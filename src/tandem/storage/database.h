// The Database seam: the only way domain-facing code reaches storage.
//
// A Tx bundles the stores of every module over one transaction. Database is thread-safe; a Tx
// belongs to the thread running the function and must not escape it. Every engine honours this
// contract, and the shared contract suite (storage/contract_test.cc) holds each to it:
//
// - Durability. A write's `done` gets ok only once its effects are durable (they survive a
//   crash and a power cut). A refused write changed nothing. Many writes may share one commit
//   (group commit); a refused one is undone alone.
// - Isolation. A write function must be correct even when other writes run at the same time
//   under read committed: what it reads may be changed by another write before it commits. So
//   every decision that a concurrent write could invalidate is made by a guarded store
//   operation (the stores' Try… methods, and every write documented as "guarded"), which checks
//   and writes in one statement and answers false, changing nothing, when the check fails: a
//   stock counter moved only while it covers the move, a customer's purchases only within the
//   event's limit, a till's sequence advanced only from the value read, an event, idempotency
//   record or order number inserted only if absent. Plain reads inside a write are for what no
//   concurrent write changes (a product's name) or for messages. (SQLite runs writes one at a
//   time, so there they are serializable; PostgreSQL does not.)
// - Retries. A write function may run more than once before `done` (a group commit undone
//   whole, a serialization failure or deadlock retried by the engine): only its last run
//   counts, so it changes nothing outside the transaction but what its last run leaves for
//   `done`. A write refused by a guard (kConflict) may be retried by its caller as a whole.
// - Ordering. A write queued after another's `done` was called sees that write. Writes queued
//   side by side commit in no promised order.
// - Reads. Read runs on a consistent snapshot of committed writes, which may include writes
//   whose sync is still under way (those are answered only once it is done).
// - Failure. A failed sync or an I/O error on the durability path is sticky: Health() is not ok
//   and every later write is refused with kUnavailable until the database is reopened, which
//   recovers what was durable. A write answered kUnavailable may or may not have been kept;
//   retried with the same Idempotency-Key it takes effect once.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "tandem/base/result.h"
#include "tandem/catalog/catalog.h"
#include "tandem/customers/accounts.h"
#include "tandem/fulfillment/shipments.h"
#include "tandem/inventory/inventory.h"
#include "tandem/notify/notify.h"
#include "tandem/orders/order.h"
#include "tandem/payments/payments.h"
#include "tandem/sync/sync.h"

namespace tandem::storage {

// A stored answer to a request made with an Idempotency-Key.
struct IdempotencyRecord {
  std::string request_hash;
  int status = 0;
  std::string body;
};

class Tx {
 public:
  virtual ~Tx() = default;
  virtual catalog::CatalogStore& catalog() = 0;
  virtual inventory::InventoryStore& inventory() = 0;
  virtual orders::OrderStore& orders() = 0;
  virtual customers::AccountStore& accounts() = 0;
  virtual notify::NotifyStore& notify() = 0;
  virtual sync::SyncStore& sync() = 0;
  virtual payments::PaymentStore& payments() = 0;
  virtual fulfillment::FulfillmentStore& fulfillment() = 0;

  virtual std::optional<IdempotencyRecord> FindIdempotency(const std::string& key) = 0;
  // Inserts the record if no record has `key`; false (nothing changed) when one has.
  virtual bool TrySaveIdempotency(const std::string& key, const IdempotencyRecord& record,
                                  int64_t now_ms) = 0;
  // A small key/value table for settings and markers (e.g. demo data loaded).
  virtual std::optional<std::string> GetSetting(const std::string& key) = 0;
  virtual void PutSetting(const std::string& key, const std::string& value) = 0;
};

using TxFunction = std::function<Status(Tx&)>;
using WriteDone = std::function<void(Status)>;

class Database {
 public:
  virtual ~Database() = default;
  // Queues `fn` to run in a write transaction. Its effects are kept iff it returns ok and the
  // commit succeeds; `done` gets the outcome once the commit is durable (or the write was
  // refused), on a storage thread or, when refused at once, on the caller's: keep it short.
  // Exceptions thrown by `fn` roll it back and come back as kInternal (CheckFailure included).
  // `fn` may run more than once (see Retries above).
  virtual void WriteAsync(TxFunction fn, WriteDone done) = 0;
  // WriteAsync, waiting for the outcome.
  Status Write(const TxFunction& fn) {
    std::promise<Status> outcome;
    std::future<Status> done = outcome.get_future();
    WriteAsync([&fn](Tx& tx) { return fn(tx); },
               [&outcome](Status s) { outcome.set_value(std::move(s)); });
    return done.get();
  }
  // Runs `fn` on a consistent read-only snapshot. It may include committed writes whose WAL sync
  // is still under way; those writes are answered only once it is done.
  virtual Status Read(const TxFunction& fn) = 0;
  // Ok, or why the database refuses every write until it is reopened (kUnavailable): a failed
  // sync or an I/O error on the durability path is sticky. Any thread.
  virtual Status Health() const = 0;
};

}  // namespace tandem::storage
