#include "tandem/storage/sqlite/connection.h"

#include <chrono>
#include <thread>

#include "tandem/storage/sqlite/wal_vfs.h"

namespace tandem::storage::sqlite {
namespace {

[[noreturn]] void Throw(sqlite3* db, int rc, const std::string& where) {
  throw SqliteError(rc, where + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

constexpr int kBusyTimeoutMs = 10000;

}  // namespace

Rows::~Rows() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);  // Exec binds text without a copy: it must not outlive Exec
}

bool Rows::Next() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Throw(sqlite3_db_handle(stmt_), rc, query_.name);
}

std::string Rows::Text(int col) const {
  const unsigned char* text = sqlite3_column_text(stmt_, col);
  if (text == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::unique_ptr<Connection> Connection::Open(const std::string& path, bool create,
                                             bool gather_wal_writes, const std::string& vfs_name) {
  // SQLite's memory statistics take a process-wide mutex on every malloc and free (the writer
  // spent about 1 % of the machine there under the flash sale), and nothing reads them. It must
  // precede SQLite's initialisation, which the first open does.
  static const bool configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)configured;
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  // After the configuration above: finding the default VFS initialises SQLite.
  const char* below = vfs_name.empty() ? nullptr : vfs_name.c_str();
  const char* vfs = gather_wal_writes ? GatheringWalVfs(below) : below;
  if (gather_wal_writes && vfs == nullptr) throw SqliteError(SQLITE_ERROR, "no WAL-gathering VFS");
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, vfs);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    throw SqliteError(rc, "open " + path + ": " + msg);
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  // A rollback drops the WAL frames gathered for the transaction.
  if (gather_wal_writes) {
    sqlite3_rollback_hook(
        db, [](void* c) { DiscardRolledBackWalFrames(static_cast<Connection*>(c)->db_); },
        conn.get());
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db, 1);
  constexpr const char* kSettings =
      "PRAGMA journal_mode=WAL;"
      "PRAGMA synchronous=FULL;"
      "PRAGMA foreign_keys=ON;"
      // Savepoint sub-journals and sort spills stay in memory: on disk they cost a write() per
      // changed page, a fifth of the writer thread's time under the flash sale.
      "PRAGMA temp_store=MEMORY;";
  // Switching a new file to WAL while another process does the same answers "database is
  // locked" at once, without the busy handler: try again until the busy timeout (the settings
  // are idempotent).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (;;) {
    try {
      conn->ExecScript(kSettings);
      return conn;
    } catch (const SqliteError& e) {
      int primary = e.code() & 0xff;
      bool busy = primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
      if (!busy || std::chrono::steady_clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Connection::~Connection() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

void Connection::ExecScript(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    std::string_view head(sql);
    throw SqliteError(rc, "script \"" + std::string(head.substr(0, head.find_first_of(";\n"))) +
                              "\": " + msg);
  }
}

sqlite3_stmt* Connection::Prepare(const Query& query) {
  auto it = cache_.find(query.sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, query.sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) Throw(db_, rc, std::string("prepare ") + query.name);
    it = cache_.emplace(query.sql, stmt).first;
  }
  return it->second;
}

void Connection::Binder::operator()(int64_t v) {
  int rc = sqlite3_bind_int64(stmt, index++, v);
  if (rc != SQLITE_OK) Throw(sqlite3_db_handle(stmt), rc, query.name);
}

void Connection::Binder::operator()(double v) {
  int rc = sqlite3_bind_double(stmt, index++, v);
  if (rc != SQLITE_OK) Throw(sqlite3_db_handle(stmt), rc, query.name);
}

void Connection::Binder::operator()(std::string_view v) {
  int rc = sqlite3_bind_text64(stmt, index++, v.data(), v.size(), text, SQLITE_UTF8);
  if (rc != SQLITE_OK) Throw(sqlite3_db_handle(stmt), rc, query.name);
}

void Connection::Binder::operator()(std::nullopt_t) {
  int rc = sqlite3_bind_null(stmt, index++);
  if (rc != SQLITE_OK) Throw(sqlite3_db_handle(stmt), rc, query.name);
}

}  // namespace tandem::storage::sqlite
