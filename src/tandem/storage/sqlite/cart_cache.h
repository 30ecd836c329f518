// The writer's copy of the open carts it read lately: each cart with its lines and, once read, its
// holds, as the writer's open transaction has them. A checkout reads its cart and the cart's holds
// here instead of in two statements (docs/performance.md, step 21): the flash sale's carts are
// made and filled by the same writer seconds before. Only the writer connection has one; it is
// used by the writer thread alone.
//
// It is never stale:
// - every write of `carts`, `cart_lines` and `holds` is made by SqliteOrderStore and
//   SqliteInventoryStore (stores.cc), which apply it here the same way, or drop the cart;
// - the writer forgets it all after a rollback of anything written since a mark
//   (ForgetIfWrittenSince);
// - and at the start of every batch when another connection committed (PRAGMA data_version, read
//   by SqliteDatabase::BeginTransaction).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tandem/base/limits.h"
#include "tandem/inventory/inventory.h"
#include "tandem/orders/order.h"

namespace tandem::storage::sqlite {

class CartCache {
 public:
  // Past this many carts the oldest kept leave first (a cart of one line and one hold takes
  // about 600 bytes here, estimated from its members: about 40 MiB full). A flash sale's carts
  // live seconds, and a checked-out cart leaves at once.
  static constexpr size_t kCartsMax = 65'536;

  struct Entry {
    orders::Cart cart;                                  // open; lines in position order
    std::optional<std::vector<inventory::Hold>> holds;  // in id order; nullopt until read
  };

  explicit CartCache(size_t carts_max = kCartsMax) : carts_max_(carts_max) {}
  CartCache(const CartCache&) = delete;
  CartCache& operator=(const CartCache&) = delete;

  Entry* Find(int64_t cart_id) {
    auto it = carts_.find(cart_id);
    return it == carts_.end() ? nullptr : &it->second;
  }
  // An open cart as just read from the file.
  void Put(const orders::Cart& cart) { Keep(Entry{cart, std::nullopt}); }
  // A cart just inserted, as the file has it: no lines, the default fulfilment, no holds (carts
  // are never deleted, and holds refer to their cart; an id is given again only after the
  // insert was rolled back, which forgets every cart kept).
  void CartInserted(int64_t cart_id, const std::string& token_hash,
                    std::optional<int64_t> customer_id, int64_t created_ms, int64_t updated_ms) {
    Wrote();
    orders::Cart cart;
    cart.id = cart_id;
    cart.token_hash = token_hash;
    cart.customer_id = customer_id;
    cart.created_ms = created_ms;
    cart.updated_ms = updated_ms;
    Keep(Entry{std::move(cart), std::vector<inventory::Hold>{}});
  }

  // The writes, each applied as its statement applied it to the file. Every one counts as a
  // write, whether or not its cart is here (a cart made in a job that is rolled back may have
  // been read into it since).
  void CartWritten(int64_t cart_id) {  // a write that is not mirrored: the cart is read again
    Wrote();
    carts_.erase(cart_id);
  }
  void LineSet(int64_t cart_id, const std::string& sku, int64_t quantity, int64_t now_ms) {
    Wrote();
    Entry* e = Find(cart_id);
    if (!e) return;
    auto& lines = e->cart.lines;
    auto it = std::find_if(lines.begin(), lines.end(),
                           [&](const orders::CartLine& l) { return l.sku == sku; });
    if (quantity == 0) {
      if (it != lines.end()) lines.erase(it);
    } else if (it != lines.end()) {
      it->quantity = quantity;
    } else {
      lines.push_back({sku, quantity});  // one past the largest position
    }
    e->cart.updated_ms = now_ms;
  }
  void HoldInserted(const inventory::Hold& hold) {
    Wrote();
    Entry* e = Find(hold.cart_id);
    if (e && e->holds) e->holds->push_back(hold);  // ids grow within a cart
  }
  void HoldDeleted(int64_t hold_id) {
    Wrote();
    Entry* e = Find((hold_id - 1) / kHoldsPerCartMax);  // ids cart × max + 1 … (cart + 1) × max
    if (!e || !e->holds) return;
    auto& holds = *e->holds;
    auto it = std::find_if(holds.begin(), holds.end(),
                           [&](const inventory::Hold& h) { return h.id == hold_id; });
    if (it != holds.end()) holds.erase(it);
  }
  void HoldsExtended(int64_t cart_id, int64_t now_ms, int64_t expires_ms) {
    Wrote();
    Entry* e = Find(cart_id);
    if (!e || !e->holds) return;
    for (auto& h : *e->holds) {
      if (h.expires_ms > now_ms) h.expires_ms = expires_ms;
    }
  }

  uint64_t writes() const { return writes_; }
  // After a rollback: what was applied since `mark` may have been rolled back.
  void ForgetIfWrittenSince(uint64_t mark) {
    if (writes_ != mark) Clear();
  }
  void Clear() {
    carts_.clear();
    kept_order_.clear();
  }
  size_t size() const { return carts_.size(); }

 private:
  void Wrote() { ++writes_; }
  // Keeps `entry`, and lets the oldest go past the bound: at most two steps per cart kept, so
  // that no write waits for a sweep of the whole map. `kept_order_` may name carts dropped
  // since; it holds at most twice the bound.
  void Keep(Entry entry) {
    const int64_t id = entry.cart.id;
    if (carts_.insert_or_assign(id, std::move(entry)).second) kept_order_.push_back(id);
    for (int step = 0; step < 2 && !kept_order_.empty(); ++step) {
      const int64_t oldest = kept_order_.front();
      const bool kept = carts_.contains(oldest);
      if (kept && carts_.size() <= carts_max_ && kept_order_.size() <= 2 * carts_max_) break;
      kept_order_.pop_front();
      if (kept) carts_.erase(oldest);
    }
  }

  size_t carts_max_;
  std::unordered_map<int64_t, Entry> carts_;
  std::deque<int64_t> kept_order_;  // oldest first
  uint64_t writes_ = 0;
};

}  // namespace tandem::storage::sqlite
