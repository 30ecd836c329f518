// A thin RAII layer over one sqlite3 connection: named queries, a statement cache, typed binding
// and row access. Errors throw SqliteError; the database adapter catches them at the transaction
// boundary. A Connection is used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

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

  // Inserts one row and returns its id. `query` is "INSERT INTO t (id, …) VALUES (…)" with
  // nothing after the VALUES, its first parameter the table's INTEGER PRIMARY KEY; `args` bind
  // the others. A query allowed to wait (AllowDeferred) while inserts are deferred
  // (DeferInserts) does not run: its row waits in memory with the id given here, one past the
  // table's largest. Rows that wait are written many to a statement (a statement costs about
  // 0.8 µs by itself; docs/performance.md, step 16) before any statement that names their
  // table or a table with a foreign key to it, before COMMIT, RELEASE and SAVEPOINT, and when
  // deferring ends; a rollback (ROLLBACK, ROLLBACK TO, or one SQLite makes) drops them.
  template <typename... Args>
  int64_t Insert(const Query& query, const Args&... args) {
    Deferrable* d = deferring_ ? DeferrableOf(query) : nullptr;
    if (d == nullptr) {
      Exec(query, std::nullopt, args...);
      return LastInsertId();
    }
    const int64_t id = NextDeferredId(*d);
    d->values.emplace_back(id);
    (d->values.emplace_back(ValueOf(args)), ...);
    ++d->rows;
    waiting_ |= d->bit;
    ++deferred_rows_;
    return id;
  }

  // Changes one row, as Exec does, and returns the number of rows changed. A change allowed to
  // wait (AllowDeferred's `changes`) while deferring does not run: it waits like an insert (but
  // only a statement naming its own table writes it out: it keeps every key), is taken as done
  // (1 is returned), and is written with others of its kind by one statement; if that statement
  // changes fewer rows than waited, the write-out fails as a failing insert's does
  // (WriteOutFailed), and the writer runs the batch again without deferring.
  template <typename... Args>
  int Change(const Query& query, const Args&... args) {
    Deferrable* d = deferring_ ? DeferrableOf(query) : nullptr;
    if (d == nullptr) return Exec(query, args...);
    Wait(*d, {ValueOf(args)...});
    return 1;
  }

  // A change that may wait: `query` changes one row; `head` + n × `tuple` (joined by commas) +
  // `tail` changes n, given the same values per row in the same order. Waiting rows whose first
  // `merged_by` values are equal become one, the others (integers) summed.
  struct DeferredChange {
    const Query* query;
    const char* table;
    const char* head;
    const char* tuple;
    const char* tail;
    int merged_by = 0;
  };
  // The inserts that may wait, parents first: rows are written table by table in this order,
  // so a row may refer to a waiting row of a table before it; then the changes. Call it once the
  // schema is in place: it reads the foreign keys (again at every call). Not for tables that a
  // trigger or view reads.
  void AllowDeferred(std::vector<const Query*> parents_first,
                     std::vector<DeferredChange> changes = {});
  // Turns deferring on or off; off writes out what waits.
  void DeferInserts(bool on);
  bool Deferring() const { return deferring_; }
  // Writes out the rows that wait for the tables of `which` (bits of deferrable_; all by
  // default), an insert's with its parents'; throws SqliteError (and drops everything that
  // waits) when one fails.
  void WriteDeferred(uint32_t which = ~uint32_t{0});
  // Whether a write-out failed since deferring was last turned on: then rows of earlier writes
  // were dropped, and the transaction must be undone whole, even if the statement whose
  // write-out failed was in a write that changed nothing itself.
  bool WriteOutFailed() const { return write_out_failed_; }
  // The rows changed since the connection opened, with those that waited counted once, when
  // they were inserted or changed (not again when written out, perhaps during a later write):
  // whether a write changed anything.
  int64_t TotalChanges() const {
    return sqlite3_total_changes64(db_) - written_out_ + deferred_rows_;
  }
  size_t RowsWaiting() const;

  int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  sqlite3* raw() { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3_stmt* Prepare(const Query& query);

  using Value = std::variant<std::monostate, int64_t, double, std::string>;
  static Value ValueOf(int64_t v) { return v; }
  static Value ValueOf(int v) { return int64_t{v}; }
  static Value ValueOf(bool v) { return int64_t{v}; }
  static Value ValueOf(double v) { return v; }
  static Value ValueOf(std::string_view v) { return std::string(v); }
  static Value ValueOf(const std::string& v) { return v; }
  static Value ValueOf(const char* v) { return std::string(v); }
  static Value ValueOf(std::nullopt_t) { return std::monostate{}; }
  template <typename T>
  static Value ValueOf(const std::optional<T>& v) {
    return v ? ValueOf(*v) : Value(std::monostate{});
  }

  // An insert or change that may wait, and the rows waiting for it.
  struct Deferrable {
    const Query* query;
    uint32_t bit;  // its bit in `names` and `waiting_`
    std::string table;
    std::vector<std::string> referred_by;  // tables with a foreign key to this one
    std::string head;   // "INSERT INTO t (id, …) VALUES "
    std::string tuple;  // "(?, …)"
    std::string tail;   // after the tuples (changes)
    bool insert = true;  // false: a change, whose statements must change every row
    int merged_by = 0;   // changes: rows with these first values equal are one
    std::unordered_map<std::string, size_t> merged;  // their values as text -> row
    int columns = 0;    // parameters per row
    int64_t next_id = 0;  // the next row's id while rows wait; 0 when none does
    size_t rows = 0;
    std::vector<Value> values;  // `columns` per row
    static constexpr size_t kSizes = 7;  // statements of 1, 2, 4, … 64 rows
    std::array<sqlite3_stmt*, kSizes> by_rows{};  // [i]: 2^i rows to a statement
    sqlite3_stmt* largest_id = nullptr;
  };
  Deferrable* DeferrableOf(const Query& query);
  int64_t NextDeferredId(Deferrable& d);
  void Wait(Deferrable& d, std::vector<Value> row);
  void WriteOut(Deferrable& d);
  void Forget(Deferrable& d);
  void DropDeferred();
  // What a statement does to rows that wait before it runs, by its first word: a rollback drops
  // them, the end of a transaction or a savepoint writes them out, any other statement writes
  // out those of the tables it names.
  enum class Before : uint8_t { kWriteNamed, kWriteAll, kDrop };
  static Before BeforeOf(const char* sql);
  void BeforeRunning(Before before, uint32_t names);
  // The bits of the deferrable tables `sql` names, itself or through a table referring to it.
  uint32_t TablesNamed(const char* sql) const;

  struct Cached {
    sqlite3_stmt* stmt;
    uint32_t names;
    Before before;
  };

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
    void operator()(std::monostate) { (*this)(std::nullopt); }  // a waiting row's NULL
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
  bool gathers_wal_writes_ = false;
  std::unordered_map<const char*, Cached> cache_;
  std::vector<Deferrable> deferrable_;  // parents first
  bool deferring_ = false;
  int64_t deferred_rows_ = 0;  // ever deferred
  int64_t written_out_ = 0;    // rows changed by write-outs, ever
  bool write_out_failed_ = false;
  uint32_t waiting_ = 0;       // bit i: deferrable_[i] has rows waiting
};

}  // namespace tandem::storage::sqlite
