// A thin RAII layer over one sqlite3 connection: named queries, a statement cache, typed binding
// and row access. Errors throw SqliteError; the database adapter catches them at the transaction
// boundary. A Connection is used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tandem::storage::sqlite {

// A named SQL statement; the name appears in logs and errors.
struct Query {
  const char* name;
  const char* sql;
};

class SqliteError : public std::runtime_error {
 public:
  SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// Rows of one executed statement; resets the statement when it goes out of scope.
class Rows {
 public:
  Rows(sqlite3_stmt* stmt, const Query& query) : stmt_(stmt), query_(query) {}
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows();

  // Steps to the next row; false when done.
  bool Next();
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const;
  std::optional<int64_t> OptInt(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int(col));
  }

 private:
  sqlite3_stmt* stmt_;
  const Query& query_;
};

class Connection {
 public:
  // Opens (creating when `create`) the database file with Tandem's pragmas:
  // WAL, synchronous=FULL, foreign keys on, a busy timeout. With `gather_wal_writes` the WAL
  // frames of each commit are gathered and written in 64 KiB pieces (wal_vfs.h): for the writer.
  // `vfs_name`: the SQLite VFS to use (below the gathering one), the default when empty.
  static std::unique_ptr<Connection> Open(const std::string& path, bool create,
                                          bool gather_wal_writes = false,
                                          const std::string& vfs_name = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements with no parameters and no result (DDL, BEGIN, COMMIT).
  void ExecScript(const char* sql);

  // Binds `args` to `query` (cached) and returns its rows. Text is copied into the statement:
  // the rows may be read after the arguments are gone.
  template <typename... Args>
  Rows Select(const Query& query, const Args&... args) {
    return Bound(query, SQLITE_TRANSIENT, args...);
  }

  // Runs a statement to completion; returns the number of rows it changed. Text is bound where
  // it lies, without a copy: the arguments outlive the statement's run, and the bindings are
  // cleared before this returns.
  template <typename... Args>
  int Exec(const Query& query, const Args&... args) {
    {
      Rows rows = Bound(query, SQLITE_STATIC, args...);
      while (rows.Next()) {
      }
    }
    return sqlite3_changes(db_);
  }

  // The rows changed since the connection opened: whether a write changed anything.
  int64_t TotalChanges() const { return sqlite3_total_changes64(db_); }
  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  sqlite3* raw() { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3_stmt* Prepare(const Query& query);

  // One statement's binding: `text` says whether SQLite copies text (SQLITE_TRANSIENT) or reads
  // it where it lies until the bindings are cleared (SQLITE_STATIC).
  struct Binder {
    sqlite3_stmt* stmt;
    const Query& query;
    sqlite3_destructor_type text;
    int index = 1;

    void operator()(int64_t v);
    void operator()(int v) { (*this)(int64_t{v}); }
    void operator()(bool v) { (*this)(int64_t{v}); }
    void operator()(double v);
    void operator()(std::string_view v);
    void operator()(const std::string& v) { (*this)(std::string_view(v)); }
    void operator()(const char* v) { (*this)(std::string_view(v)); }
    void operator()(std::nullopt_t);
    template <typename T>
    void operator()(const std::optional<T>& v) {
      if (v) {
        (*this)(*v);
      } else {
        (*this)(std::nullopt);
      }
    }
  };

  template <typename... Args>
  Rows Bound(const Query& query, sqlite3_destructor_type text, const Args&... args) {
    sqlite3_stmt* stmt = Prepare(query);
    [[maybe_unused]] Binder bind{stmt, query, text};
    (bind(args), ...);
    return Rows(stmt, query);
  }

  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;  // by the query's SQL text
};

}  // namespace tandem::storage::sqlite
