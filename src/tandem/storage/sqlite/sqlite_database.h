// The SQLite adapter of the Database seam.
//
// Writes go to one writer thread that folds the transactions waiting for it into one commit
// (group commit). One failing write does not fail the others: it changed nothing, or the batch
// runs again with a savepoint per write (see RunBatch). Every caller is answered only after the
// commit that holds its write is durable: the writer commits without waiting for the disk
// (synchronous=NORMAL) and a sync thread answers a batch once a sync of the WAL that began
// after its commit has returned; a refused write, which changed nothing, is answered when its
// batch has committed, before that sync. So a refusal may rest on a kept write that is not yet
// durable (a unit sold in the same batch): if that sync then fails, the kept write is answered
// kUnavailable and the refusal stands, as a reader may have seen that write too. Reads use a
// pool of connections on WAL snapshots and never wait for the writer. A failed sync or an I/O
// error on a write or commit is sticky (Health). The stores use guarded operations (the contract
// in database.h), but the writer's two memories depend on it being the only writer in the
// process (another process's commits are noticed at the start of a batch): each e-mail's last
// order (recent_orders.h) and the reference data (reference_cache.h). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tandem/base/limits.h"
#include "tandem/base/result.h"
#include "tandem/storage/database.h"

namespace tandem::storage::sqlite {

struct SqliteOptions {
  std::string path;            // the database file; its folder must exist
  bool apply_migrations = true;
  // false: synchronous=OFF, for simulations that never survive a crash. Never for serving.
  bool durable = true;
  // Writes waiting for the writer; past it a write is refused at once (kUnavailable: 503).
  size_t write_queue_max = kWriteQueueMax;
  // The SQLite VFS every connection goes through (tests inject faults with one); the default
  // when empty.
  std::string vfs;
};

// Opens the database, applies pending migrations and starts the writer, sync and checkpoint
// threads.
Result<std::unique_ptr<Database>> OpenSqlite(const SqliteOptions& options);

// Applies pending migrations to the database at `path`, those up to `up_to_version` (all by
// default; fewer makes a file as an older binary left it, for tests); returns how many were
// applied.
Result<int> MigrateSqlite(const std::string& path, int64_t up_to_version = INT64_MAX);

// Writes an online, consistent copy of the database at `from` to `to` (SQLite backup API).
Status BackupSqlite(const std::string& from, const std::string& to);

}  // namespace tandem::storage::sqlite
