#include "tandem/storage/sqlite/order_sequences.h"

#include "tandem/storage/sqlite/connection.h"

namespace tandem::storage::sqlite {
namespace {

constexpr Query kSelectSequence{"select_sequence",
    "SELECT last FROM order_sequences WHERE year = ?"};
constexpr Query kSaveSequence{"save_sequence",
    "INSERT INTO order_sequences (year, last) VALUES (?1, ?2) "
    "ON CONFLICT (year) DO UPDATE SET last = ?2"};

}  // namespace

int64_t OrderSequences::Next(Connection& c, int year, bool defer) {
  if (state_.year != year) {
    Flush(c);
    Rows r = c.Select(kSelectSequence, year);
    state_ = {year, r.Next() ? r.Int(0) : 0, true};
  }
  ++state_.last;
  state_.written = false;
  if (!defer) Flush(c);
  return state_.last;
}

void OrderSequences::Flush(Connection& c) {
  if (state_.written) return;
  c.Exec(kSaveSequence, state_.year, state_.last);
  state_.written = true;
}

}  // namespace tandem::storage::sqlite
