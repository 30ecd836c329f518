// The bound of the writer's cart cache (its agreement with the file is tested through the
// database, in sqlite_database_test.cc).
#include "tandem/storage/sqlite/cart_cache.h"

#include <gtest/gtest.h>

namespace tandem::storage::sqlite {
namespace {

orders::Cart CartNumbered(int64_t id) {
  orders::Cart cart;
  cart.id = id;
  cart.token_hash = "t" + std::to_string(id);
  return cart;
}

TEST(CartCacheBoundTest, PastItsBoundTheOldestCartsLeaveFirst) {
  CartCache cache(4);
  for (int64_t id = 1; id <= 10; ++id) cache.Put(CartNumbered(id));
  EXPECT_EQ(cache.size(), 4u);
  for (int64_t id = 1; id <= 6; ++id) EXPECT_EQ(cache.Find(id), nullptr) << id;
  for (int64_t id = 7; id <= 10; ++id) {
    ASSERT_NE(cache.Find(id), nullptr) << id;
    EXPECT_EQ(cache.Find(id)->cart.token_hash, "t" + std::to_string(id));
  }
}

// Carts that leave on their own (checked out) do not hold a place: the ones after them stay.
TEST(CartCacheBoundTest, CartsDroppedOnTheirOwnMakeRoom) {
  CartCache cache(4);
  for (int64_t id = 1; id <= 1000; ++id) {
    cache.Put(CartNumbered(id));
    if (id % 2 == 0) cache.CartWritten(id - 1);  // closed
  }
  EXPECT_LE(cache.size(), 4u);
  EXPECT_NE(cache.Find(1000), nullptr);
  EXPECT_NE(cache.Find(998), nullptr);
}

// A cart's hold ids run from cart × kHoldsPerCartMax + 1 to (cart + 1) × kHoldsPerCartMax: its
// last number's hold belongs to it, not to the next cart.
TEST(CartCacheBoundTest, ACartsLastHoldNumberIsItsOwn) {
  CartCache cache;
  cache.Put(CartNumbered(5));
  const int64_t last = 6 * kHoldsPerCartMax;
  cache.Find(5)->holds = std::vector<inventory::Hold>{{last, 5, "S", 1, 1, 0, std::nullopt}};
  cache.HoldDeleted(last);
  EXPECT_TRUE(cache.Find(5)->holds->empty());
}

}  // namespace
}  // namespace tandem::storage::sqlite
