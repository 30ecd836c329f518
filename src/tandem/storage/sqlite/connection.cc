#include "tandem/storage/sqlite/connection.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <thread>
#include <type_traits>

#include <strings.h>

#include "tandem/base/check.h"
#include "tandem/storage/sqlite/wal_vfs.h"

namespace tandem::storage::sqlite {
namespace {

[[noreturn]] void Throw(sqlite3* db, int rc, const std::string& where) {
  throw SqliteError(rc, where + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

constexpr int kBusyTimeoutMs = 10000;

// A waiting change's values, appended to the text that tells rows to merge apart.
void AppendKey(std::string& key, std::monostate) { key += 'n'; }
template <typename T>
void AppendKey(std::string& key, const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    const size_t n = v.size();
    key += 's';
    key.append(reinterpret_cast<const char*>(&n), sizeof n).append(v);
  } else {
    key += 'v';
    key.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
}

// The statement's first word, upper-cased.
std::string FirstWord(const char* sql) {
  while (*sql != '\0' && std::isspace(static_cast<unsigned char>(*sql))) ++sql;
  std::string word;
  while (std::isalpha(static_cast<unsigned char>(*sql))) {
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(*sql++)));
  }
  return word;
}

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Whether `sql` has `name` as a word of its own, in any case.
bool NamesWord(const char* sql, const std::string& name) {
  const size_t n = std::strlen(sql);
  for (size_t i = 0; i + name.size() <= n; ++i) {
    if ((i == 0 || !IsWordChar(sql[i - 1])) &&
        (i + name.size() == n || !IsWordChar(sql[i + name.size()])) &&
        strncasecmp(sql + i, name.c_str(), name.size()) == 0) {
      return true;
    }
  }
  return false;
}

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
  conn->gathers_wal_writes_ = gather_wal_writes;
  // A rollback drops the inserts that wait, and the WAL frames gathered for the transaction.
  sqlite3_rollback_hook(
      db,
      [](void* c) {
        Connection& self = *static_cast<Connection*>(c);
        if (self.gathers_wal_writes_) DiscardRolledBackWalFrames(self.db_);
        self.DropDeferred();
      },
      conn.get());
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
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached.stmt);
  for (Deferrable& d : deferrable_) {
    for (sqlite3_stmt* stmt : d.by_rows) sqlite3_finalize(stmt);
    sqlite3_finalize(d.largest_id);
  }
  sqlite3_close_v2(db_);
}

void Connection::ExecScript(const char* sql) {
  // A script may name any table: what waits is written out first (or dropped by a rollback).
  BeforeRunning(BeforeOf(sql), waiting_);
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
    it = cache_.emplace(query.sql, Cached{stmt, TablesNamed(query.sql), BeforeOf(query.sql)})
             .first;
  }
  if (waiting_ != 0) BeforeRunning(it->second.before, it->second.names);
  return it->second.stmt;
}

// --- Inserts that wait ---------------------------------------------------------------------------

void Connection::AllowDeferred(std::vector<const Query*> parents_first,
                               std::vector<DeferredChange> changes) {
  TANDEM_CHECK(RowsWaiting() == 0);
  TANDEM_CHECK(deferrable_.size() + parents_first.size() + changes.size() <= 32);
  for (const Query* q : parents_first) {
    const std::string sql = q->sql;
    const size_t into = sql.find("INSERT INTO ");
    const size_t values = sql.find(" VALUES ");
    TANDEM_CHECK(into == 0 && values != std::string::npos);
    Deferrable d;
    d.query = q;
    d.bit = uint32_t{1} << deferrable_.size();
    d.table = sql.substr(12, sql.find_first_of(" (", 12) - 12);
    d.head = sql.substr(0, values + 8);
    d.tuple = sql.substr(values + 8);
    d.columns = static_cast<int>(std::count(d.tuple.begin(), d.tuple.end(), '?'));
    TANDEM_CHECK(d.columns > 0 && d.tuple.front() == '(' && d.tuple.back() == ')');
    deferrable_.push_back(std::move(d));
  }
  for (const DeferredChange& change : changes) {
    Deferrable d;
    d.query = change.query;
    d.bit = uint32_t{1} << deferrable_.size();
    d.table = change.table;
    d.head = change.head;
    d.tuple = change.tuple;
    d.tail = change.tail;
    d.insert = false;
    d.merged_by = change.merged_by;
    d.columns = static_cast<int>(std::count(d.tuple.begin(), d.tuple.end(), '?'));
    TANDEM_CHECK(d.columns > d.merged_by);
    deferrable_.push_back(std::move(d));
  }
  // A row inserted into a table that refers to a waiting row needs that row written first (the
  // foreign key is checked at once): a statement naming such a table counts as naming it.
  constexpr Query kForeignKeys{"foreign_keys",
                               "SELECT m.name, f.\"table\" FROM sqlite_master m, "
                               "pragma_foreign_key_list(m.name) f WHERE m.type = 'table'"};
  for (Deferrable& d : deferrable_) d.referred_by.clear();
  {
    Rows r = Select(kForeignKeys);
    while (r.Next()) {
      const std::string child = r.Text(0), parent = r.Text(1);
      for (Deferrable& d : deferrable_) {
        // A change keeps every key (it updates other columns, or deletes rows nothing refers
        // to): only statements naming its own table need it written.
        if (d.insert && strcasecmp(parent.c_str(), d.table.c_str()) == 0) {
          d.referred_by.push_back(child);
        }
      }
    }
  }
  for (auto& [sql, cached] : cache_) cached.names = TablesNamed(sql);
}

void Connection::DeferInserts(bool on) {
  if (!on) WriteDeferred();
  deferring_ = on;
  write_out_failed_ = false;
}

size_t Connection::RowsWaiting() const {
  size_t n = 0;
  for (const Deferrable& d : deferrable_) n += d.rows;
  return n;
}

Connection::Deferrable* Connection::DeferrableOf(const Query& query) {
  for (Deferrable& d : deferrable_) {
    if (d.query == &query) return &d;
  }
  return nullptr;
}

int64_t Connection::NextDeferredId(Deferrable& d) {
  if (d.rows == 0) {
    // One past the largest id, as SQLite gives an INTEGER PRIMARY KEY; the write lock is held
    // from here until the rows are written, so no other connection takes it meanwhile.
    if (d.largest_id == nullptr) {
      const std::string sql = "SELECT ifnull(max(id), 0) FROM " + d.table;
      int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &d.largest_id,
                                  nullptr);
      if (rc != SQLITE_OK) Throw(db_, rc, std::string("prepare largest id of ") + d.table);
    }
    int rc = sqlite3_step(d.largest_id);
    if (rc != SQLITE_ROW) {
      sqlite3_reset(d.largest_id);
      Throw(db_, rc, std::string("largest id of ") + d.table);
    }
    d.next_id = sqlite3_column_int64(d.largest_id, 0) + 1;
    sqlite3_reset(d.largest_id);
    if (d.values.capacity() == 0) d.values.reserve(256 * static_cast<size_t>(d.columns));
  }
  return d.next_id++;
}

void Connection::Wait(Deferrable& d, std::vector<Value> row) {
  TANDEM_CHECK(!d.insert && row.size() == static_cast<size_t>(d.columns));
  ++deferred_rows_;
  if (d.merged_by > 0) {
    std::string key;
    for (int i = 0; i < d.merged_by; ++i) {
      std::visit([&key](const auto& v) { AppendKey(key, v); }, row[i]);
    }
    auto [it, fresh] = d.merged.try_emplace(std::move(key), d.rows);
    if (!fresh) {
      Value* kept = &d.values[it->second * static_cast<size_t>(d.columns)];
      for (int i = d.merged_by; i < d.columns; ++i) {
        std::get<int64_t>(kept[i]) += std::get<int64_t>(row[i]);
      }
      return;
    }
  }
  for (Value& v : row) d.values.push_back(std::move(v));
  ++d.rows;
  waiting_ |= d.bit;
}

void Connection::WriteDeferred(uint32_t which) {
  uint32_t written = which & waiting_;
  if (written == 0) return;
  // An insert is written with the inserts before it, its parents: its foreign keys are checked
  // at once.
  for (size_t i = deferrable_.size(); i-- > 0;) {
    if (deferrable_[i].insert && (written & deferrable_[i].bit) != 0) {
      for (size_t j = 0; j < i; ++j) {
        if (deferrable_[j].insert) written |= deferrable_[j].bit & waiting_;
      }
      break;
    }
  }
  try {
    for (Deferrable& d : deferrable_) {
      if ((written & d.bit) != 0) WriteOut(d);
    }
  } catch (...) {
    DropDeferred();  // the writer undoes the whole transaction
    write_out_failed_ = true;
    throw;
  }
}

void Connection::WriteOut(Deferrable& d) {
  {
    size_t row = 0;
    while (row < d.rows) {
      size_t log2 = 0;
      while (log2 + 1 < Deferrable::kSizes && (size_t{2} << log2) <= d.rows - row) ++log2;
      const size_t n = size_t{1} << log2;
      sqlite3_stmt*& stmt = d.by_rows[log2];
      if (stmt == nullptr) {
        // A change of one row is the change's own statement: its many-row form costs more for
        // one (SQLite materialises the VALUES and joins them).
        std::string sql = d.head;
        for (size_t i = 0; i < n; ++i) sql += (i ? "," : "") + d.tuple;
        sql += d.tail;
        if (!d.insert && n == 1) sql = d.query->sql;
        int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                                    nullptr);
        if (rc != SQLITE_OK) Throw(db_, rc, std::string("prepare ") + d.query->name);
      }
      const size_t first = row * static_cast<size_t>(d.columns);
      const size_t end = (row + n) * static_cast<size_t>(d.columns);
      Binder bind{stmt, *d.query, SQLITE_STATIC};
      try {
        for (size_t i = first; i < end; ++i) std::visit(bind, d.values[i]);
      } catch (const SqliteError&) {
        sqlite3_clear_bindings(stmt);  // no text left bound where it will be gone
        throw;
      }
      const int64_t changed_before = sqlite3_total_changes64(db_);
      int rc = sqlite3_step(stmt);
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
      written_out_ += sqlite3_total_changes64(db_) - changed_before;
      if (rc != SQLITE_DONE) Throw(db_, rc, std::string(d.query->name) + " (deferred)");
      if (!d.insert && static_cast<size_t>(sqlite3_changes(db_)) != n) {
        throw SqliteError(SQLITE_CONSTRAINT, std::string(d.query->name) +
                                                 " (deferred) changed fewer rows than waited");
      }
      row += n;
    }
  }
  Forget(d);
}

void Connection::Forget(Deferrable& d) {
  d.values.clear();
  d.merged.clear();
  d.rows = 0;
  d.next_id = 0;
  waiting_ &= ~d.bit;
}

void Connection::DropDeferred() {
  for (Deferrable& d : deferrable_) Forget(d);
}

Connection::Before Connection::BeforeOf(const char* sql) {
  const std::string word = FirstWord(sql);
  // ROLLBACK TO drops all that waits too: it was inserted after the last SAVEPOINT, which
  // wrote out the rest.
  if (word == "ROLLBACK") return Before::kDrop;
  if (word == "COMMIT" || word == "END" || word == "RELEASE" || word == "SAVEPOINT") {
    return Before::kWriteAll;
  }
  return Before::kWriteNamed;
}

void Connection::BeforeRunning(Before before, uint32_t names) {
  if (waiting_ == 0) return;
  if (before == Before::kDrop) {
    DropDeferred();
  } else if (before == Before::kWriteAll) {
    WriteDeferred();
  } else if ((names & waiting_) != 0) {
    WriteDeferred(names);
  }
}

uint32_t Connection::TablesNamed(const char* sql) const {
  uint32_t names = 0;
  for (const Deferrable& d : deferrable_) {
    bool named = NamesWord(sql, d.table);
    for (const std::string& child : d.referred_by) named = named || NamesWord(sql, child);
    if (named) names |= d.bit;
  }
  return names;
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
