#include "tandem/storage/sqlite/sqlite_database.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "tandem/base/check.h"
#include "tandem/base/limits.h"
#include "tandem/storage/sqlite/connection.h"
#include "tandem/storage/sqlite/migrations.h"
#include "tandem/storage/sqlite/stores.h"

namespace tandem::storage::sqlite {
namespace {

constexpr Query kCreateMigrations{"create_schema_migrations",
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
    "NULL)"};
constexpr Query kAppliedVersions{"applied_versions", "SELECT version FROM schema_migrations"};
constexpr Query kRecordMigration{"record_migration",
    "INSERT INTO schema_migrations (version, name) VALUES (?, ?)"};
constexpr size_t kReadersMax = 256;  // kept open for reuse: opening one costs more than a read

// Applies pending migrations under the write lock, so that processes opening one fresh data folder
// at the same time apply each migration once.
int ApplyMigrations(Connection& c) {
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

Status RunGuarded(const TxFunction& fn, Tx& tx) {
  try {
    return fn(tx);
  } catch (const SqliteError& e) {
    int primary = e.code() & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      return Status(Code::kUnavailable, std::string("database busy: ") + e.what());
    }
    return Status(Code::kInternal, e.what());
  } catch (const std::exception& e) {
    return Status(Code::kInternal, e.what());
  }
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, std::unique_ptr<Connection> writer)
      : path_(std::move(path)), writer_(std::move(writer)) {
    thread_ = std::thread([this] { WriterLoop(); });
  }

  ~SqliteDatabase() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  Status Write(const TxFunction& fn) override {
    Job job{&fn, {}};
    std::future<Status> done = job.done.get_future();
    {
      std::lock_guard lock(mu_);
      if (stopping_) return Status(Code::kUnavailable, "the database is closing");
      if (queue_.size() >= kWriteQueueMax) {
        return Status(Code::kUnavailable, "too many writes waiting; retry shortly");
      }
      queue_.push_back(&job);
    }
    cv_.notify_one();
    return done.get();
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
      conn->ExecScript("BEGIN");
      SqliteTx tx(*conn);
      status = RunGuarded(fn, tx);
      conn->ExecScript("COMMIT");
    } catch (const std::exception& e) {
      status = Status(Code::kInternal, e.what());
      conn.reset();  // a connection in an unknown state is not reused
    }
    if (conn) ReleaseReader(std::move(conn));
    return status;
  }

 private:
  struct Job {
    const TxFunction* fn;
    std::promise<Status> done;
  };

  std::unique_ptr<Connection> AcquireReader() {
    {
      std::lock_guard lock(readers_mu_);
      if (!readers_.empty()) {
        std::unique_ptr<Connection> c = std::move(readers_.back());
        readers_.pop_back();
        return c;
      }
    }
    std::unique_ptr<Connection> c = Connection::Open(path_, false);
    c->ExecScript("PRAGMA query_only=ON");
    return c;
  }

  void ReleaseReader(std::unique_ptr<Connection> c) {
    std::lock_guard lock(readers_mu_);
    if (readers_.size() < kReadersMax) readers_.push_back(std::move(c));
  }

  void WriterLoop() {
    for (;;) {
      std::vector<Job*> batch;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        while (!queue_.empty() && batch.size() < static_cast<size_t>(kWriteBatchMax)) {
          batch.push_back(queue_.front());
          queue_.pop_front();
        }
      }
      RunBatch(batch);
    }
  }

  // One transaction for the whole batch; a savepoint per job.
  void RunBatch(const std::vector<Job*>& batch) {
    std::vector<Status> results(batch.size());
    std::vector<size_t> kept;  // jobs whose effects are in the open transaction
    auto fail_kept = [&](const Status& why) {
      for (size_t i : kept) results[i] = why;
      kept.clear();
    };
    try {
      writer_->ExecScript("BEGIN IMMEDIATE");
    } catch (const SqliteError& e) {
      for (Job* job : batch) job->done.set_value(Status(Code::kUnavailable, e.what()));
      return;
    }
    SqliteTx tx(*writer_);
    for (size_t i = 0; i < batch.size(); ++i) {
      try {
        writer_->ExecScript("SAVEPOINT job");
        results[i] = RunGuarded(*batch[i]->fn, tx);
        if (!writer_->InTransaction()) {
          // SQLite rolled the whole transaction back (e.g. disk full): everything before is gone.
          fail_kept(Status(Code::kUnavailable, "transaction aborted by the database; retry"));
          if (results[i].ok()) results[i] = Status(Code::kInternal, "transaction aborted");
          writer_->ExecScript("BEGIN IMMEDIATE");
          continue;
        }
        if (results[i].ok()) {
          writer_->ExecScript("RELEASE job");
          kept.push_back(i);
        } else {
          writer_->ExecScript("ROLLBACK TO job; RELEASE job");
        }
      } catch (const std::exception& e) {
        // A savepoint statement itself failed: start over with a fresh transaction.
        results[i] = Status(Code::kInternal, e.what());
        fail_kept(Status(Code::kUnavailable, "transaction aborted by the database; retry"));
        try {
          if (writer_->InTransaction()) writer_->ExecScript("ROLLBACK");
          writer_->ExecScript("BEGIN IMMEDIATE");
        } catch (const std::exception& again) {
          for (size_t j = i + 1; j < batch.size(); ++j) {
            results[j] = Status(Code::kUnavailable, again.what());
          }
          for (size_t j = 0; j < batch.size(); ++j) batch[j]->done.set_value(results[j]);
          return;
        }
      }
    }
    try {
      writer_->ExecScript("COMMIT");
    } catch (const SqliteError& e) {
      fail_kept(Status(Code::kUnavailable, std::string("commit failed: ") + e.what()));
      try {
        if (writer_->InTransaction()) writer_->ExecScript("ROLLBACK");
      } catch (const SqliteError&) {
        TANDEM_UNEXPECTED("rollback after a failed commit failed");
      }
    }
    for (size_t i = 0; i < batch.size(); ++i) batch[i]->done.set_value(results[i]);
  }

  const std::string path_;
  std::unique_ptr<Connection> writer_;  // only the writer thread touches it after construction
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job*> queue_;
  bool stopping_ = false;
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> readers_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const SqliteOptions& options) {
  try {
    std::unique_ptr<Connection> writer = Connection::Open(options.path, true);
    if (!options.durable) writer->ExecScript("PRAGMA synchronous=OFF");
    if (options.apply_migrations) ApplyMigrations(*writer);
    return std::unique_ptr<Database>(new SqliteDatabase(options.path, std::move(writer)));
  } catch (const SqliteError& e) {
    return Status(Code::kUnavailable, e.what());
  }
}

Result<int> MigrateSqlite(const std::string& path) {
  try {
    std::unique_ptr<Connection> c = Connection::Open(path, true);
    return ApplyMigrations(*c);
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
