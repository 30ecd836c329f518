// The writer's memory of the newest order of each e-mail, for linking a guest's orders placed in a
// row (orders::Checkout's related orders). An index of orders by e-mail on the file cost the
// flash sale about a fifth of the writer's time: every checkout added an entry to a large index at
// a place of its own, and looked it up. Only the writer connection has one (all orders are placed
// there); it is used by the writer thread alone.
//
// It follows the writer's transactions: an order is remembered when it is inserted, and forgotten
// again (the entry it replaced put back) when its job or batch is rolled back. Its answer is
// still a candidate, which the order store confirms by the order's id, e-mail and time before
// linking: two e-mails of the same hash share an entry.
//
// What it may miss (only a link is then missed, never a wrong one made): orders placed by another
// process; after a start, orders older than the newest kLoadedMax; past kOrdersMax orders, the
// oldest; orders whose time lies before a later order's (a clock stepped back).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tandem::storage::sqlite {

class Connection;

class RecentOrders {
 public:
  // About 90 MiB when full (measured); a flash sale of 10,000 orders a second fills it in 100
  // seconds.
  static constexpr size_t kOrdersMax = 1'000'000;
  // What the first lookup reads from the file: the newest orders, at most this many. The writer
  // reads them while writes wait: 100,000 took 0.09 s (0.6 s from a cold disk; 1,000,000 took
  // 0.96 s and 6.2 s), so after a restart in the middle of a flash sale only the last 100,000
  // orders are linked to.
  static constexpr size_t kLoadedMax = 100'000;
  static_assert(kLoadedMax <= kOrdersMax);

  explicit RecentOrders(size_t orders_max = kOrdersMax, size_t loaded_max = kLoadedMax);

  // The id of the newest order remembered for `email` placed at or after `since_ms`, if any.
  // The first call reads the orders placed since `since_ms` from `c` (at most kLoadedMax).
  std::optional<int64_t> Candidate(Connection& c, std::string_view email, int64_t since_ms);
  // An order just inserted by the open transaction. (Before the first lookup nothing is kept:
  // that lookup reads the file.)
  void Add(std::string_view email, int64_t order_id, int64_t created_ms);

  // The open transaction's orders so far: a mark for Undo.
  size_t added() const { return undo_.size(); }
  // A rollback: forgets the orders added after `mark` (0: all of the transaction's).
  void Undo(size_t mark);
  // The transaction committed: its orders can no longer be undone.
  void Commit() { undo_.clear(); }
  // Debug builds, before each commit: every order the open transaction added is remembered as
  // the file (`c`, inside that transaction) has it, and every entry is filed under its own key.
  // Fails a TANDEM_CHECK otherwise.
  void Verify(Connection& c) const;

  size_t size() const { return by_email_.size(); }

 private:
  struct Entry {
    uint64_t key;
    int64_t order_id;
    int64_t created_ms;
  };
  // A keyed hash (ShortHash): no one can choose e-mails that share a key.
  static uint64_t Key(std::string_view email);
  void Remember(const Entry& entry);
  // Forgets the oldest entries past the bound, and those placed before `since_ms`.
  void Trim(int64_t since_ms);

  const size_t orders_max_;
  const size_t loaded_max_;
  bool loaded_ = false;
  std::unordered_map<uint64_t, Entry> by_email_;
  std::deque<Entry> oldest_first_;  // every order remembered, for forgetting in order
  // The open transaction's orders, in order, each with the entry it replaced (order_id 0: none).
  struct Added {
    Entry entry;
    Entry replaced;
  };
  std::vector<Added> undo_;
};

}  // namespace tandem::storage::sqlite
