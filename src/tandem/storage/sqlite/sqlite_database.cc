#include "tandem/storage/sqlite/sqlite_database.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "tandem/base/check.h"
#include "tandem/base/limits.h"
#include "tandem/storage/sqlite/connection.h"
#include "tandem/storage/sqlite/migrations.h"
#include "tandem/storage/sqlite/reference_cache.h"
#include "tandem/storage/sqlite/stores.h"
#include "tandem/storage/sqlite/wal_vfs.h"

namespace tandem::storage::sqlite {
namespace {

constexpr Query kCreateMigrations{"create_schema_migrations",
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
    "NULL)"};
constexpr Query kAppliedVersions{"applied_versions", "SELECT version FROM schema_migrations"};
constexpr Query kRecordMigration{"record_migration",
    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)"};
constexpr size_t kReadersMax = 256;  // kept open for reuse: opening one costs more than a read
// The writer's transaction statements, prepared once (parsing them each time cost the writer
// thread a few percent).
constexpr Query kBegin{"begin", "BEGIN IMMEDIATE"};
constexpr Query kBeginRead{"begin_read", "BEGIN"};
// Changes when another connection commits (not when this one does).
constexpr Query kDataVersion{"data_version", "PRAGMA data_version"};
constexpr Query kCommit{"commit", "COMMIT"};
constexpr Query kRollback{"rollback", "ROLLBACK"};
constexpr Query kSavepoint{"savepoint", "SAVEPOINT job"};
constexpr Query kRelease{"release", "RELEASE job"};
constexpr Query kRollbackTo{"rollback_to", "ROLLBACK TO job"};
// After a batch had to be undone and run again with savepoints (RunBatch), this many more
// batches run with them too.
constexpr int kGuardedBatchesAfterUndo = 32;
// The WAL is copied back into the database by a checkpointer thread of its own, not by the
// writer: when a commit leaves at least this many frames, and otherwise every kCheckpointEveryMs.
// 4,000 rather than SQLite's default 1,000: under steady writes the WAL rarely starts over, so
// once past the threshold every commit wakes the checkpointer, which copies the hot pages again
// (and syncs twice); the checkpoint thread measured 0.09-0.10 of a core at 1,000 and 0.05 at
// 4,000 during the flash sale (docs/performance.md).
constexpr int kCheckpointFramesMin = 4000;
constexpr int kCheckpointEveryMs = 1000;

// Applies pending migrations (those up to `up_to_version`) under the write lock, so that
// processes opening one fresh data folder at the same time apply each migration once.
int ApplyMigrations(Connection& c, int64_t up_to_version = INT64_MAX) {
  c.ExecScript("BEGIN IMMEDIATE");
  int count = 0;
  try {
    c.Exec(kCreateMigrations);
    std::vector<int64_t> applied;
    {
      Rows r = c.Select(kAppliedVersions);
      while (r.Next()) applied.push_back(r.Int(0));
    }
    for (const Migration& m : Migrations()) {
      if (m.version > up_to_version) break;
      if (std::find(applied.begin(), applied.end(), m.version) != applied.end()) continue;
      c.ExecScript(m.sql);
      c.Exec(kRecordMigration, m.version, m.name);
      ++count;
    }
    c.ExecScript("COMMIT");
  } catch (...) {
    if (c.InTransaction()) c.ExecScript("ROLLBACK");
    throw;
  }
  return count;
}

// Errors after which the file can no longer be trusted to hold what was committed: the writer
// stops (SqliteDatabase::Fail).
bool IsStorageFailure(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_IOERR || primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

// Runs `fn`; what it throws becomes a status. `storage_failure`, when given, is set when an
// SQLite error says the file failed (IsStorageFailure).
Status RunGuarded(const TxFunction& fn, Tx& tx, bool* storage_failure = nullptr) {
  try {
    return fn(tx);
  } catch (const SqliteError& e) {
    int primary = e.code() & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      return Status(Code::kUnavailable, std::string("database busy: ") + e.what());
    }
    if (IsStorageFailure(e.code())) {
      if (storage_failure != nullptr) *storage_failure = true;
      return Status(Code::kUnavailable, std::string("storage failed: ") + e.what());
    }
    return Status(Code::kInternal, e.what());
  } catch (const std::exception& e) {
    return Status(Code::kInternal, e.what());
  }
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(const SqliteOptions& options, std::unique_ptr<Connection> writer,
                 std::unique_ptr<Connection> checkpointer)
      : path_(options.path),
        vfs_(options.vfs),
        durable_(options.durable),
        write_queue_max_(options.write_queue_max),
        writer_(std::move(writer)),
        cache_(*writer_),
        checkpointer_(std::move(checkpointer)) {
    // Replaces SQLite's automatic checkpoint, which would run on the writer thread.
    sqlite3_wal_hook(writer_->raw(), &SqliteDatabase::OnWalCommit, this);
    thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "tandem-writer");  // visible in top -H and perf
      WriterLoop();
    });
    sync_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "tandem-sync");
      SyncLoop();
    });
    checkpoint_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "tandem-ckpt");
      CheckpointLoop();
    });
  }

  ~SqliteDatabase() override {
    Stop();
    if (!Health().ok()) {
      // What the file holds after the failure is left for the next start to recover from the
      // WAL, as after a crash: no connection copies the WAL back while closing.
      auto no_checkpoint = [](Connection& c) {
        sqlite3_db_config(c.raw(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
      };
      no_checkpoint(*writer_);
      no_checkpoint(*checkpointer_);
      std::lock_guard lock(readers_mu_);
      for (auto& c : readers_) no_checkpoint(*c);
    }
  }

  Status Health() const override {
    if (!failed_.load(std::memory_order_acquire)) return Status::Ok();
    std::lock_guard lock(failure_mu_);
    return Status(Code::kUnavailable, failure_);
  }

  void WriteAsync(TxFunction fn, WriteDone done) override {
    auto job = std::make_unique<Job>(Job{std::move(fn), std::move(done)});
    Status refused;
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        refused = Status(Code::kUnavailable, "the database is closing");
      } else if (failed_.load(std::memory_order_acquire)) {
        refused = Health();
      } else if (queue_.size() >= write_queue_max_) {
        refused = Status(Code::kUnavailable, "too many writes waiting; retry shortly");
      } else {
        queue_.push_back(std::move(job));
      }
    }
    // Answered outside the lock: `done` may well queue another write.
    if (!refused.ok()) return job->done(std::move(refused));
    cv_.notify_one();
  }

  Status Read(const TxFunction& fn) override {
    std::unique_ptr<Connection> conn;
    try {
      conn = AcquireReader();
    } catch (const std::exception& e) {
      return Status(Code::kInternal, e.what());
    }
    Status status;
    try {
      conn->Exec(kBeginRead);
      SqliteTx tx(*conn);
      status = RunGuarded(fn, tx);
      conn->Exec(kCommit);
    } catch (const std::exception& e) {
      status = Status(Code::kInternal, e.what());
      conn.reset();  // a connection in an unknown state is not reused
    }
    if (conn) ReleaseReader(std::move(conn));
    return status;
  }

 private:
  // Stops the threads once every queued write was answered.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
    {
      std::lock_guard lock(sync_mu_);
      sync_stopping_ = true;
    }
    sync_cv_.notify_all();
    sync_thread_.join();
    {
      std::lock_guard lock(checkpoint_mu_);
      checkpoint_stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    checkpoint_thread_.join();
  }

  struct Job {
    TxFunction fn;
    WriteDone done;
  };
  using Batch = std::vector<std::unique_ptr<Job>>;
  struct Committed {
    Batch jobs;
    std::vector<Status> results;
    sqlite3_file* wal = nullptr;  // the WAL file the commit wrote (wal_vfs.h, WalFileOf)
  };

  // Keeps the first storage failure (a failed WAL sync, an I/O error on a write or the commit):
  // from then on every write is refused and Health says why, until a restart recovers from the
  // WAL. Carrying on could acknowledge commits resting on WAL frames that never reached the disk
  // (after a failed fsync Linux may drop the dirty pages), as leveldb's sticky background error
  // and PostgreSQL's panic on a failed fsync avoid. Any thread.
  void Fail(const std::string& why) {
    {
      std::lock_guard lock(failure_mu_);
      if (failed_.load(std::memory_order_relaxed)) return;
      failure_ = "storage failed, writes are refused until a restart: " + why;
      failed_.store(true, std::memory_order_release);
    }
    TANDEM_UNEXPECTED(Health().message().c_str());
  }
  bool Failed() const { return failed_.load(std::memory_order_acquire); }

  std::unique_ptr<Connection> AcquireReader() {
    {
      std::lock_guard lock(readers_mu_);
      if (!readers_.empty()) {
        std::unique_ptr<Connection> c = std::move(readers_.back());
        readers_.pop_back();
        return c;
      }
    }
    std::unique_ptr<Connection> c = Connection::Open(path_, false, false, vfs_);
    c->ExecScript("PRAGMA query_only=ON");
    return c;
  }

  void ReleaseReader(std::unique_ptr<Connection> c) {
    std::lock_guard lock(readers_mu_);
    if (readers_.size() < kReadersMax) readers_.push_back(std::move(c));
  }

  static int OnWalCommit(void* self, sqlite3*, const char*, int frames) {
    if (frames >= kCheckpointFramesMin) {
      auto* db = static_cast<SqliteDatabase*>(self);
      {
        std::lock_guard lock(db->checkpoint_mu_);
        db->checkpoint_due_ = true;
      }
      db->checkpoint_cv_.notify_one();
    }
    return SQLITE_OK;
  }

  // PASSIVE: copies what no reader still needs, never blocks the writer; the writer starts the
  // WAL over once everything was copied.
  void CheckpointLoop() {
    std::unique_lock lock(checkpoint_mu_);
    while (!checkpoint_stopping_) {
      checkpoint_cv_.wait_for(lock, std::chrono::milliseconds(kCheckpointEveryMs),
                              [this] { return checkpoint_due_ || checkpoint_stopping_; });
      checkpoint_due_ = false;
      // Closing checkpoints anyway; nothing is copied back from a WAL that may have lost frames.
      if (checkpoint_stopping_ || Failed()) continue;
      lock.unlock();
      int rc = sqlite3_wal_checkpoint_v2(checkpointer_->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                         nullptr, nullptr);
      if (IsStorageFailure(rc)) {
        // A checkpoint syncs the WAL and the database file: a failure there is as fatal as one of
        // the sync thread's.
        Fail(std::string("checkpoint: ") + sqlite3_errstr(rc));
      } else if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED) {
        TANDEM_UNEXPECTED("wal checkpoint failed");
      }
      lock.lock();
    }
  }

  // kWriteBatchMax writes to a commit, more when the queue is deep (limits.h).
  static size_t WriteBatchLimit(size_t waiting) {
    return std::clamp(waiting / 4, size_t{kWriteBatchMax}, size_t{kDeepWriteBatchMax});
  }

  void WriterLoop() {
    for (;;) {
      Batch batch;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        const size_t limit = WriteBatchLimit(queue_.size());
        while (!queue_.empty() && batch.size() < limit) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      if (Failed()) {
        for (auto& job : batch) job->done(Health());
        continue;
      }
      RunBatch(std::move(batch));
    }
  }

  // One transaction for the whole batch. A job runs without a savepoint of its own as long as
  // jobs succeed, or fail without having changed anything (Connection::TotalChanges tells): a
  // savepoint saves every page its job changes first, 11-16 % of the writer's time on the
  // flash sale. A job that fails after changing something can only be undone with the whole
  // transaction: the batch then runs again from its start with a savepoint per job (so each job
  // function may run twice; Database::WriteAsync says so), and so do the next
  // kGuardedBatchesAfterUndo batches, so that a run of such refusals replays no more batches.
  void RunBatch(Batch batch) {
    std::vector<Status> results(batch.size());
    bool guarded = guarded_batches_left_ > 0;
    if (guarded) --guarded_batches_left_;
    for (;;) {
      Pass pass = RunJobs(batch, results, guarded);
      if (pass == Pass::kAnswered) return;
      if (pass == Pass::kDone) break;
      guarded = true;  // Pass::kUndone
      guarded_batches_left_ = kGuardedBatchesAfterUndo;
    }
    try {
      writer_->Exec(kCommit);
      recent_orders_.Commit();
    } catch (const SqliteError& e) {
      if (IsStorageFailure(e.code())) Fail(std::string("commit: ") + e.what());
      ForgetSince(batch_mark_);
      for (size_t i = 0; i < results.size(); ++i) {
        if (results[i].ok()) {
          results[i] = Status(Code::kUnavailable, std::string("commit failed: ") + e.what());
        }
      }
      try {
        if (writer_->InTransaction()) writer_->Exec(kRollback);
      } catch (const SqliteError&) {
        TANDEM_UNEXPECTED("rollback after a failed commit failed");
      }
    }
    Acknowledge(std::move(batch), std::move(results));
  }

  enum class Pass {
    kDone,      // every job ran; the transaction is open with the kept ones
    kUndone,    // an unguarded job failed after changing something; all rolled back
    kAnswered,  // the transaction could not begin (or begin again); every job was answered
  };

  // BEGIN; when another connection (another process) committed since the last batch, the
  // writer's memories of the file forget what they hold.
  void BeginTransaction() {
    writer_->Exec(kBegin);
    int64_t version = 0;
    {
      Rows r = writer_->Select(kDataVersion);
      if (r.Next()) version = r.Int(0);
    }
    if (version != data_version_) {
      cache_.Clear();
      data_version_ = version;
    }
    batch_mark_ = MarkNow();
  }

  // How far the writer's memories (reference cache, recent orders) had followed the open
  // transaction; after a rollback to that point, ForgetSince drops what they took in after it.
  struct Mark {
    uint64_t cache_writes = 0;
    size_t orders_added = 0;
  };
  Mark MarkNow() const { return {cache_.writes(), recent_orders_.added()}; }
  void ForgetSince(const Mark& mark) {
    cache_.ForgetIfWrittenSince(mark.cache_writes);
    recent_orders_.Undo(mark.orders_added);
  }

  // Runs the batch's jobs in one new transaction, each in a savepoint when `guarded`.
  Pass RunJobs(Batch& batch, std::vector<Status>& results, bool guarded) {
    // The jobs before `i` that succeeded are those whose effects are in the open transaction.
    auto fail_kept = [&](size_t i, const Status& why) {
      for (size_t j = 0; j < i; ++j) {
        if (results[j].ok()) results[j] = why;
      }
    };
    try {
      BeginTransaction();
    } catch (const SqliteError& e) {
      if (IsStorageFailure(e.code())) Fail(std::string("begin: ") + e.what());
      try {
        if (writer_->InTransaction()) writer_->Exec(kRollback);
      } catch (const SqliteError&) {
        TANDEM_UNEXPECTED("rollback of an empty transaction failed");
      }
      for (auto& job : batch) job->done(Status(Code::kUnavailable, e.what()));
      return Pass::kAnswered;
    }
    SqliteTx tx(*writer_, {&cache_, &recent_orders_});
    for (size_t i = 0; i < batch.size(); ++i) {
      const Mark job_mark = MarkNow();
      try {
        const int64_t changes_before = writer_->TotalChanges();
        if (guarded) writer_->Exec(kSavepoint);
        bool storage_failure = false;
        results[i] = RunGuarded(batch[i]->fn, tx, &storage_failure);
        if (storage_failure) return Abandon(batch, results[i].message());
        if (!writer_->InTransaction()) {
          // SQLite rolled the whole transaction back (e.g. disk full): everything before is gone.
          ForgetSince(batch_mark_);
          fail_kept(i, Status(Code::kUnavailable, "transaction aborted by the database; retry"));
          if (results[i].ok()) results[i] = Status(Code::kInternal, "transaction aborted");
          BeginTransaction();
          continue;
        }
        if (results[i].ok()) {
          if (guarded) writer_->Exec(kRelease);
        } else if (guarded) {
          writer_->Exec(kRollbackTo);
          writer_->Exec(kRelease);
          ForgetSince(job_mark);
        } else if (writer_->TotalChanges() != changes_before) {
          writer_->Exec(kRollback);
          ForgetSince(batch_mark_);
          return Pass::kUndone;
        }
      } catch (const std::exception& e) {
        // A transaction statement itself failed: start over with a fresh transaction, unless
        // the file failed (then nothing more is written).
        if (const auto* sqlite = dynamic_cast<const SqliteError*>(&e);
            sqlite != nullptr && IsStorageFailure(sqlite->code())) {
          return Abandon(batch, e.what());
        }
        ForgetSince(batch_mark_);
        results[i] = Status(Code::kInternal, e.what());
        fail_kept(i, Status(Code::kUnavailable, "transaction aborted by the database; retry"));
        try {
          if (writer_->InTransaction()) writer_->Exec(kRollback);
          BeginTransaction();
        } catch (const std::exception& again) {
          for (size_t j = i + 1; j < batch.size(); ++j) {
            results[j] = Status(Code::kUnavailable, again.what());
          }
          for (size_t j = 0; j < batch.size(); ++j) batch[j]->done(results[j]);
          return Pass::kAnswered;
        }
      }
    }
    VerifyMemories();
    return Pass::kDone;
  }

  // The file failed during the batch (Fail): nothing of it is committed, nothing more will be,
  // and every job is answered with the failure.
  Pass Abandon(Batch& batch, const std::string& why) {
    Fail(why);
    ForgetSince(batch_mark_);
    try {
      if (writer_->InTransaction()) writer_->Exec(kRollback);
    } catch (const SqliteError&) {
      // The rollback of a failed file may fail too; the transaction never commits either way.
    }
    for (auto& job : batch) job->done(Health());
    return Pass::kAnswered;
  }

  // Debug builds, before each commit, inside the transaction (no other connection can write):
  // what the writer keeps beside the file equals the file, a pair assertion on each memory
  // (its writes are checked where they are made, the result here).
  void VerifyMemories() {
#ifndef NDEBUG
    SqliteCatalogStore catalog(*writer_);  // without the cache: reads the file
    SqliteInventoryStore inventory(*writer_);
    if (cache_.locations) TANDEM_CHECK(*cache_.locations == inventory.Locations());
    for (const auto& [sku, variant] : cache_.variants) {
      TANDEM_CHECK(variant == catalog.FindVariantWithProduct(sku));
    }
    if (cache_.event_skus) TANDEM_CHECK(*cache_.event_skus == ReadEventSkus(*writer_));
    recent_orders_.Verify(*writer_);
#endif
  }

  // The commit wrote the batch to the WAL without waiting for the disk (synchronous=NORMAL);
  // the sync thread answers its kept jobs once a sync of the WAL that began after the commit
  // returned (its refused jobs before that sync), so the writer runs the next batch meanwhile and
  // no thread holds the write lock during a sync.
  void Acknowledge(Batch jobs, std::vector<Status> results) {
    if (!durable_) {
      for (size_t i = 0; i < jobs.size(); ++i) jobs[i]->done(results[i]);
      return;
    }
    // Looked up once, on the writer's thread: the WAL stays open as long as the connection.
    if (wal_ == nullptr) wal_ = WalFileOf(writer_->raw());
    {
      std::lock_guard lock(sync_mu_);
      unsynced_.push_back({std::move(jobs), std::move(results), wal_});
    }
    sync_cv_.notify_one();
  }

  void SyncLoop() {
    for (;;) {
      std::vector<Committed> due;
      {
        std::unique_lock lock(sync_mu_);
        sync_cv_.wait(lock, [this] { return sync_stopping_ || !unsynced_.empty(); });
        if (unsynced_.empty()) return;  // stopping and drained
        due.swap(unsynced_);
      }
      // Refused writes changed nothing: they are answered before the sync (a sold-out SKU's
      // 409 does not wait for the disk), as readers too may see a commit whose sync is under
      // way. Only kept writes changed the WAL; batches that were all refused need no sync.
      bool any_kept = false;
      for (Committed& c : due) {
        for (size_t i = 0; i < c.jobs.size(); ++i) {
          if (c.results[i].ok()) {
            any_kept = true;
          } else {
            c.jobs[i]->done(c.results[i]);
          }
        }
      }
      if (!any_kept) continue;
      Status synced = SyncWal(due.back().wal);
      for (Committed& c : due) {
        for (size_t i = 0; i < c.jobs.size(); ++i) {
          if (c.results[i].ok()) c.jobs[i]->done(synced);
        }
      }
    }
  }

  // Syncs the WAL through the VFS (the file that SQLite wrote); a failure is sticky (Fail). A
  // commit after a failure is never answered as durable: nothing is synced after it.
  Status SyncWal(sqlite3_file* wal) {
    if (Failed()) return Health();
    if (wal == nullptr) {
      Fail("no WAL file after a commit");
    } else if (int rc = SyncWalFile(wal); rc != SQLITE_OK) {
      Fail(std::string("sync of the WAL: ") + sqlite3_errstr(rc));
    }
    return Health();
  }

  const std::string path_;
  const std::string vfs_;
  const bool durable_;
  const size_t write_queue_max_;
  std::unique_ptr<Connection> writer_;  // only the writer thread touches it after construction
  ReferenceCache cache_;                // the writer's, like writer_
  RecentOrders recent_orders_;          // the writer's, like writer_
  int64_t data_version_ = -1;           // the writer's PRAGMA data_version at its last batch
  sqlite3_file* wal_ = nullptr;         // the writer's WAL file (WalFileOf), once it has one
  Mark batch_mark_;                     // when the open transaction began
  int guarded_batches_left_ = 0;        // batches still to run with a savepoint per job
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  bool stopping_ = false;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> readers_;
  std::thread thread_;
  std::unique_ptr<Connection> checkpointer_;  // only the checkpoint thread touches it
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_due_ = false;
  bool checkpoint_stopping_ = false;
  std::thread checkpoint_thread_;
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::vector<Committed> unsynced_;
  bool sync_stopping_ = false;
  mutable std::mutex failure_mu_;
  std::string failure_;  // the first storage failure; under failure_mu_
  std::atomic<bool> failed_{false};
  std::thread sync_thread_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const SqliteOptions& options) {
  try {
    std::unique_ptr<Connection> writer =
        Connection::Open(options.path, true, /*gather_wal_writes=*/true, options.vfs);
    // The writer keeps the hot pages of every table cached between batches (readers keep the
    // default 2 MiB each).
    writer->ExecScript("PRAGMA cache_size=-65536");
    if (!options.durable) writer->ExecScript("PRAGMA synchronous=OFF");
    if (options.apply_migrations) ApplyMigrations(*writer);  // synchronous=FULL when durable
    // From here on the sync thread makes each batch durable (see Acknowledge), not the commit.
    if (options.durable) {
      writer->ExecScript("PRAGMA synchronous=NORMAL");
      // The WAL may hold commits of a process that stopped before their sync (answered 503, or
      // not at all): they are made durable before anyone reads them here, so that what a reader
      // sees is never lost afterwards.
      writer->ExecScript("PRAGMA user_version");  // a read: opens the WAL if there is one
      if (sqlite3_file* wal = WalFileOf(writer->raw())) {
        if (int rc = SyncWalFile(wal); rc != SQLITE_OK) {
          return Status(Code::kUnavailable, std::string("sync of the WAL at open: ") +
                                                sqlite3_errstr(rc));
        }
      }
    }
    std::unique_ptr<Connection> checkpointer =
        Connection::Open(options.path, false, false, options.vfs);
    if (!options.durable) checkpointer->ExecScript("PRAGMA synchronous=OFF");
    return std::unique_ptr<Database>(
        new SqliteDatabase(options, std::move(writer), std::move(checkpointer)));
  } catch (const SqliteError& e) {
    return Status(Code::kUnavailable, e.what());
  }
}

Result<int> MigrateSqlite(const std::string& path, int64_t up_to_version) {
  try {
    std::unique_ptr<Connection> c = Connection::Open(path, true);
    return ApplyMigrations(*c, up_to_version);
  } catch (const SqliteError& e) {
    return Status(Code::kUnavailable, e.what());
  }
}

Status BackupSqlite(const std::string& from, const std::string& to) {
  try {
    std::unique_ptr<Connection> src = Connection::Open(from, false);
    sqlite3* dst = nullptr;
    if (sqlite3_open(to.c_str(), &dst) != SQLITE_OK) {
      std::string msg = sqlite3_errmsg(dst);
      sqlite3_close(dst);
      return Status(Code::kUnavailable, "open " + to + ": " + msg);
    }
    sqlite3_backup* b = sqlite3_backup_init(dst, "main", src->raw(), "main");
    if (b == nullptr) {
      std::string msg = sqlite3_errmsg(dst);
      sqlite3_close(dst);
      return Status(Code::kUnavailable, "backup: " + msg);
    }
    int rc = SQLITE_OK;
    do {
      rc = sqlite3_backup_step(b, 256);
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) sqlite3_sleep(20);
    } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
    sqlite3_backup_finish(b);
    std::string msg = sqlite3_errmsg(dst);
    sqlite3_close(dst);
    if (rc != SQLITE_DONE) return Status(Code::kUnavailable, "backup: " + msg);
    return Status::Ok();
  } catch (const SqliteError& e) {
    return Status(Code::kUnavailable, e.what());
  }
}

}  // namespace tandem::storage::sqlite
