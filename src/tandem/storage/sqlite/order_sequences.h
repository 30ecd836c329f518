// The writer's order numbers: the last number drawn in a year, as the open transaction has it, so
// that drawing one costs no statement while inserts are deferred (Connection::DeferInserts): the
// numbers drawn are written to `order_sequences` once, by Flush before the batch's COMMIT, or
// when another year is drawn. While jobs run in savepoints nothing is deferred, and each number
// is written as it is drawn. Only the writer connection has one; it is used by the writer thread
// alone, and only it touches `order_sequences` (docs/performance.md, step 22).
//
// It follows the writer's transactions: the writer takes a mark (state()) before each job and
// the batch, and puts it back (Restore) after a rollback to that point, or after a job that failed
// without changing the file: a number drawn by a job that failed is given again. At the start of
// a batch in which another connection may have committed, Forget makes it read the file again.
#pragma once

#include <cstdint>

namespace tandem::storage::sqlite {

class Connection;

class OrderSequences {
 public:
  struct State {
    int year = 0;  // 0: nothing known
    int64_t last = 0;
    bool written = true;  // `last` is what the file has
  };

  // The next number of `year`; with `defer`, written by Flush.
  int64_t Next(Connection& c, int year, bool defer);
  // Writes what was drawn and not yet written.
  void Flush(Connection& c);

  State state() const { return state_; }
  void Restore(const State& mark) { state_ = mark; }
  void Forget() { state_ = State{}; }

 private:
  State state_;
};

}  // namespace tandem::storage::sqlite
