// The Database seam: the only way domain-facing code reaches storage.
//
// A Tx bundles the stores of every module over one transaction. Database::Write runs a function in
// a write transaction and returns only once its effects are durable (or rolled back); many writes
// may share one commit (group commit), a refused one undone alone. Database is thread-safe; a Tx
// belongs to the thread running the function and must not escape it.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "tandem/base/result.h"
#include "tandem/catalog/catalog.h"
#include "tandem/customers/accounts.h"
#include "tandem/inventory/inventory.h"
#include "tandem/notify/notify.h"
#include "tandem/orders/order.h"
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

  virtual std::optional<IdempotencyRecord> FindIdempotency(const std::string& key) = 0;
  virtual void SaveIdempotency(const std::string& key, const IdempotencyRecord& record,
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
  // `fn` may run more than once before `done` (a group commit may undo its whole transaction
  // and run it again): only its last run counts, so it must change nothing outside the
  // transaction other than what its last run leaves for `done`.
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
