#include "tandem/storage/sqlite/recent_orders.h"

#include <algorithm>
#include <limits>

#include "tandem/base/check.h"
#include "tandem/base/crypto.h"
#include "tandem/storage/sqlite/connection.h"

namespace tandem::storage::sqlite {

RecentOrders::RecentOrders(size_t orders_max, size_t loaded_max)
    : orders_max_(orders_max), loaded_max_(loaded_max) {}

uint64_t RecentOrders::Key(std::string_view email) { return ShortHash(email); }

void RecentOrders::Verify(Connection& c) const {
  static constexpr Query kOrderEmail{"order_email_and_time",
                                     "SELECT email, created_ms FROM orders WHERE id = ?"};
  for (const Added& a : undo_) {
    Rows r = c.Select(kOrderEmail, a.entry.order_id);
    TANDEM_CHECK(r.Next());
    TANDEM_CHECK(Key(r.Text(0)) == a.entry.key && r.Int(1) == a.entry.created_ms);
  }
  for (const auto& [key, entry] : by_email_) TANDEM_CHECK(key == entry.key);
}

std::optional<int64_t> RecentOrders::Candidate(Connection& c, std::string_view email,
                                               int64_t since_ms) {
  if (!loaded_) {
    // The orders placed since `since_ms`, newest first: by id backwards, up to the first older.
    static constexpr Query kNewestOrders{
        "newest_orders", "SELECT id, email, created_ms FROM orders ORDER BY id DESC"};
    std::vector<Entry> newest_first;
    {
      Rows r = c.Select(kNewestOrders);
      const size_t limit = std::min(orders_max_, loaded_max_);
      while (newest_first.size() < limit && r.Next() && r.Int(2) >= since_ms) {
        newest_first.push_back({Key(r.Text(1)), r.Int(0), r.Int(2)});
      }
    }
    for (auto it = newest_first.rbegin(); it != newest_first.rend(); ++it) Remember(*it);
    loaded_ = true;
  }
  Trim(since_ms);
  auto it = by_email_.find(Key(email));
  if (it == by_email_.end() || it->second.created_ms < since_ms) return std::nullopt;
  return it->second.order_id;
}

void RecentOrders::Add(std::string_view email, int64_t order_id, int64_t created_ms) {
  if (!loaded_) return;
  Entry entry{Key(email), order_id, created_ms};
  auto it = by_email_.find(entry.key);
  undo_.push_back({entry, it == by_email_.end() ? Entry{entry.key, 0, 0} : it->second});
  Remember(entry);
}

void RecentOrders::Undo(size_t mark) {
  while (undo_.size() > mark) {
    const Added& a = undo_.back();
    if (a.replaced.order_id != 0) {
      by_email_[a.entry.key] = a.replaced;
    } else {
      by_email_.erase(a.entry.key);
    }
    if (!oldest_first_.empty() && oldest_first_.back().order_id == a.entry.order_id) {
      oldest_first_.pop_back();
    }
    undo_.pop_back();
  }
}

void RecentOrders::Remember(const Entry& entry) {
  oldest_first_.push_back(entry);
  by_email_[entry.key] = entry;
  Trim(std::numeric_limits<int64_t>::min());
}

void RecentOrders::Trim(int64_t since_ms) {
  while (!oldest_first_.empty() &&
         (oldest_first_.size() > orders_max_ || oldest_first_.front().created_ms < since_ms)) {
    const Entry& old = oldest_first_.front();
    auto it = by_email_.find(old.key);
    if (it != by_email_.end() && it->second.order_id == old.order_id) by_email_.erase(it);
    oldest_first_.pop_front();
  }
}

}  // namespace tandem::storage::sqlite
