// The writer's memory of the newest order of each e-mail, for linking a guest's orders placed in a
// row (orders::Checkout's related orders). An index of orders by e-mail on the file cost the
// flash sale about a fifth of the writer's time: every checkout added an entry to a large index at
// a place of its own, and looked it up. Only the writer connection has one (all orders are placed
// there); it is used by the writer thread alone.
//
// Its answer is a candidate, which the order store confirms by the order's id before linking:
// - it is filled from the file at the first lookup (the orders placed since the lookup's time, at
//   most kOrdersMax, newest first) and then by every order the writer inserts;
// - an order rolled back after its insert leaves an entry whose id names no order of that e-mail,
//   so the confirmation fails (the e-mail's earlier order is then not linked: rare and harmless);
// - two e-mails of the same 64-bit hash share an entry; the confirmation compares the e-mail.
// Memory is bounded: past kOrdersMax orders remembered, the oldest are forgotten.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace tandem::storage::sqlite {

class Connection;

class RecentOrders {
 public:
  // About 90 MiB when full (measured); a flash sale of 10,000 orders a second fills it in 100
  // seconds.
  static constexpr size_t kOrdersMax = 1'000'000;

  explicit RecentOrders(size_t orders_max = kOrdersMax, size_t loaded_max = kLoadedMax)
      : orders_max_(orders_max), loaded_max_(loaded_max) {}

  // What the first lookup reads from the file: the newest orders, at most this many. The writer
  // reads them while writes wait: 100,000 took 0.09 s (0.6 s from a cold disk; 1,000,000 took
  // 0.96 s and 6.2 s), so after a restart in the middle of a flash sale only the last 100,000
  // orders are linked to.
  static constexpr size_t kLoadedMax = 100'000;

  // The id of the newest order remembered for `email` placed at or after `since_ms`, if any.
  // The first call reads the orders placed since `since_ms` from `c` (at most kLoadedMax).
  std::optional<int64_t> Candidate(Connection& c, std::string_view email, int64_t since_ms);
  // An order just inserted (in a transaction that may still be rolled back).
  void Add(std::string_view email, int64_t order_id, int64_t created_ms);

  size_t size() const { return by_email_.size(); }

 private:
  struct Entry {
    uint64_t key;
    int64_t order_id;
    int64_t created_ms;
  };
  static uint64_t Key(std::string_view email) { return std::hash<std::string_view>{}(email); }
  // Forgets the oldest entries past the bound, and those placed before `since_ms`.
  void Trim(int64_t since_ms);

  const size_t orders_max_;
  const size_t loaded_max_;
  bool loaded_ = false;
  std::unordered_map<uint64_t, Entry> by_email_;
  std::deque<Entry> oldest_first_;  // every Add, for forgetting in order
};

}  // namespace tandem::storage::sqlite
