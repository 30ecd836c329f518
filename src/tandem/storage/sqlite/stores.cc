#include "tandem/storage/sqlite/stores.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "tandem/base/check.h"
#include "tandem/base/json_writer.h"
#include "tandem/base/limits.h"

namespace tandem::storage::sqlite {
namespace {

using nlohmann::json;

// ---- catalog ----
constexpr Query kInsertProduct{"insert_product",
    "INSERT INTO products (name, description, category, active, created_ms, updated_ms) "
    "VALUES (?, ?, ?, ?, ?, ?)"};
constexpr Query kUpdateProduct{"update_product",
    "UPDATE products SET name = ?2, description = ?3, category = ?4, active = ?5, "
    "updated_ms = ?6 WHERE id = ?1"};
constexpr Query kUpsertVariant{"upsert_variant",
    "INSERT INTO variants (sku, product_id, price_amount, currency, options, image_url, active, "
    "position, barcode, weight_grams) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT (sku) DO UPDATE SET price_amount = ?3, currency = ?4, options = ?5, "
    "image_url = ?6, active = ?7, position = ?8, barcode = ?9, weight_grams = ?10 "
    "WHERE product_id = ?2"};
constexpr Query kSelectProduct{"select_product",
    "SELECT id, name, description, category, active, created_ms, updated_ms FROM products "
    "WHERE id = ?"};
constexpr Query kSelectVariantWithProduct{"select_variant_with_product",
    "SELECT v.sku, v.product_id, v.price_amount, v.currency, v.options, v.image_url, v.active, "
    "v.barcode, v.weight_grams, p.name, p.active FROM variants v JOIN products p ON p.id = v.product_id WHERE v.sku = ?"};
constexpr Query kSelectVariantsOfProduct{"select_variants_of_product",
    "SELECT sku, product_id, price_amount, currency, options, image_url, active, barcode, "
    "weight_grams FROM variants "
    "WHERE product_id = ? ORDER BY position, sku"};
constexpr Query kSelectVariant{"select_variant",
    "SELECT sku, product_id, price_amount, currency, options, image_url, active, barcode, "
    "weight_grams FROM variants "
    "WHERE sku = ?"};
constexpr Query kDeleteSearchRow{"delete_search_row", "DELETE FROM product_search WHERE rowid = ?"};
constexpr Query kInsertSearchRow{"insert_search_row",
    "INSERT INTO product_search (rowid, name, description, category, variants_text) "
    "VALUES (?, ?, ?, ?, ?)"};
constexpr Query kListProducts{"list_products",
    "SELECT id FROM products WHERE active = 1 ORDER BY id LIMIT ? OFFSET ?"};
constexpr Query kSearchProducts{"search_products",
    "SELECT p.id FROM product_search s JOIN products p ON p.id = s.rowid "
    "WHERE product_search MATCH ?1 AND p.active = 1 ORDER BY s.rank, p.id LIMIT ?2 OFFSET ?3"};

std::string OptionsToJson(const std::vector<catalog::Option>& options) {
  json arr = json::array();
  for (const auto& o : options) arr.push_back({{"name", o.name}, {"value", o.value}});
  return arr.dump();
}

std::vector<catalog::Option> OptionsFromJson(const std::string& text) {
  std::vector<catalog::Option> out;
  json arr = json::parse(text, nullptr, false);
  if (!arr.is_array()) {
    TANDEM_UNEXPECTED("variant options column is not a JSON array");
    return out;
  }
  for (const auto& o : arr) out.push_back({o.value("name", ""), o.value("value", "")});
  return out;
}

catalog::Variant ReadVariant(const Rows& r) {
  catalog::Variant v;
  v.sku = r.Text(0);
  v.product_id = r.Int(1);
  v.price = Money{r.Int(2), r.Text(3)};
  v.options = OptionsFromJson(r.Text(4));
  v.image_url = r.Text(5);
  v.active = r.Int(6) != 0;
  v.barcode = r.Text(7);
  v.weight_grams = r.Int(8);
  return v;
}

// ---- inventory ----
constexpr Query kInsertLocation{"insert_location",
    "INSERT INTO locations (code, name, kind, address, latitude, longitude, ships_orders, pickup, "
    "sells_in_store, safety_stock_default, daily_capacity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"};
constexpr Query kSelectLocations{"select_locations",
    "SELECT id, code, name, kind, address, latitude, longitude, ships_orders, pickup, "
    "sells_in_store, safety_stock_default, daily_capacity FROM locations ORDER BY id"};
constexpr Query kSelectLocation{"select_location",
    "SELECT id, code, name, kind, address, latitude, longitude, ships_orders, pickup, "
    "sells_in_store, safety_stock_default, daily_capacity FROM locations WHERE id = ?"};
constexpr Query kSelectLocationByCode{"select_location_by_code",
    "SELECT id, code, name, kind, address, latitude, longitude, ships_orders, pickup, "
    "sells_in_store, safety_stock_default, daily_capacity FROM locations WHERE code = ?"};
constexpr Query kBacklogAt{"backlog_at",
    "SELECT COUNT(*) FROM shipments WHERE location_id = ? AND status IN ('open', 'packed')"};
constexpr Query kSelectLevelsOfSku{"select_levels_of_sku",
    "SELECT sku, location_id, on_hand, reserved, allocated, safety_stock FROM stock_levels "
    "WHERE sku = ? ORDER BY location_id"};
constexpr Query kSelectLevelsAt{"select_levels_at",
    "SELECT sku, location_id, on_hand, reserved, allocated, safety_stock FROM stock_levels "
    "WHERE location_id = ? AND sku > ? ORDER BY sku LIMIT ?"};
constexpr Query kSelectLevel{"select_level",
    "SELECT sku, location_id, on_hand, reserved, allocated, safety_stock FROM stock_levels "
    "WHERE sku = ? AND location_id = ?"};
constexpr Query kEnsureLevel{"ensure_level",
    "INSERT INTO stock_levels (sku, location_id, safety_stock) VALUES (?, ?, ?) "
    "ON CONFLICT (sku, location_id) DO NOTHING"};
constexpr Query kReserve{"reserve",
    "UPDATE stock_levels SET reserved = reserved + ?3 WHERE sku = ?1 AND location_id = ?2 "
    "AND on_hand - reserved - allocated - safety_stock >= ?3"};
constexpr Query kUnreserve{"unreserve",
    "UPDATE stock_levels SET reserved = reserved - ?3 WHERE sku = ?1 AND location_id = ?2 "
    "AND reserved >= ?3"};
constexpr Query kReservedToAllocated{"reserved_to_allocated",
    "UPDATE stock_levels SET reserved = reserved - ?3, allocated = allocated + ?3 "
    "WHERE sku = ?1 AND location_id = ?2 AND reserved >= ?3"};
constexpr Query kUnallocate{"unallocate",
    "UPDATE stock_levels SET allocated = allocated - ?3 WHERE sku = ?1 AND location_id = ?2 "
    "AND allocated >= ?3"};
constexpr Query kMoveOnHand{"move_on_hand",
    "UPDATE stock_levels SET on_hand = on_hand + ?3, allocated = allocated + ?4 "
    "WHERE sku = ?1 AND location_id = ?2 AND allocated + ?4 >= 0 "
    "AND on_hand + ?3 >= reserved + allocated + ?4"};
constexpr Query kForceOnHand{"force_on_hand",
    "UPDATE stock_levels SET on_hand = on_hand + ?3 WHERE sku = ?1 AND location_id = ?2"};
constexpr Query kAllocate{"allocate",
    "UPDATE stock_levels SET allocated = allocated + ?3 WHERE sku = ?1 AND location_id = ?2 "
    "AND on_hand - reserved - allocated - safety_stock >= ?3"};
constexpr Query kSetSafetyStock{"set_safety_stock",
    "UPDATE stock_levels SET safety_stock = ?3 WHERE sku = ?1 AND location_id = ?2 "
    "AND on_hand - reserved - allocated >= ?3"};
// Reads every live hold: holds are not indexed by SKU (migration 12); off the flash sale's path.
// Newest first by id: the newest carts' holds first (migration 13).
constexpr Query kSelectHoldsAt{"select_holds_at",
    "SELECT id, cart_id, sku, location_id, quantity, expires_ms, event_id FROM holds "
    "WHERE sku = ? AND location_id = ? ORDER BY id DESC"};
constexpr Query kSelectOpenAllocationsAt{"select_open_allocations_at",
    "SELECT id, order_id, line_id, sku, location_id, quantity, open, event_id, shipped FROM allocations "
    "WHERE location_id = ?2 AND sku = ?1 AND open = 1 ORDER BY id DESC LIMIT ?3"};
constexpr Query kSelectOpenAllocationsOfLocation{"select_open_allocations_of_location",
    "SELECT id, order_id, line_id, sku, location_id, quantity, open, event_id, shipped FROM allocations "
    "WHERE location_id = ? AND open = 1 ORDER BY id LIMIT ?"};
constexpr Query kInsertMovement{"insert_movement",
    "INSERT INTO movements (sku, location_id, delta, reason, reference, at_ms) "
    "VALUES (?, ?, ?, ?, ?, ?)"};
constexpr Query kSelectMovements{"select_movements",
    "SELECT id, sku, location_id, delta, reason, reference, at_ms FROM movements "
    "WHERE sku = ?1 AND location_id = ?2 AND (?4 = 0 OR id < ?4) ORDER BY id DESC LIMIT ?3"};
// A hold's id is its cart's id times kHoldsPerCartMax (?2 below) plus its number in the cart,
// one past the cart's largest (migration 13): a cart's holds are a range of the table's own key,
// with no index of their own. (The reads check the cart too: a binary from before migration 13
// would have numbered its holds as it pleased.)
constexpr Query kInsertHold{"insert_hold",
    "INSERT INTO holds (id, cart_id, sku, location_id, quantity, expires_ms, event_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"};
constexpr Query kSelectLastHoldOfCart{"select_last_hold_of_cart",
    "SELECT id FROM holds WHERE id > ?1 * ?2 AND id <= ?1 * ?2 + ?2 ORDER BY id DESC LIMIT 1"};
constexpr Query kSelectHoldsOfCart{"select_holds_of_cart",
    "SELECT id, cart_id, sku, location_id, quantity, expires_ms, event_id FROM holds "
    "WHERE id > ?1 * ?2 AND id <= ?1 * ?2 + ?2 AND cart_id = ?1 ORDER BY id"};
constexpr Query kDeleteHold{"delete_hold", "DELETE FROM holds WHERE id = ?"};
constexpr Query kExtendHolds{"extend_holds",
    "UPDATE holds SET expires_ms = ?4 WHERE id > ?1 * ?2 AND id <= ?1 * ?2 + ?2 "
    "AND cart_id = ?1 AND expires_ms > ?3"};
constexpr Query kSelectExpiredHolds{"select_expired_holds",
    "SELECT id, cart_id, sku, location_id, quantity, expires_ms, event_id FROM holds "
    "WHERE expires_ms <= ? ORDER BY expires_ms, id LIMIT ?"};
constexpr Query kSelectExpiredHoldsOfSku{"select_expired_holds_of_sku",
    "SELECT id, cart_id, sku, location_id, quantity, expires_ms, event_id FROM holds "
    "WHERE sku = ? AND expires_ms <= ? ORDER BY expires_ms, id LIMIT ?"};
constexpr Query kInsertAllocation{"insert_allocation",
    "INSERT INTO allocations (order_id, line_id, sku, location_id, quantity, open, event_id) "
    "VALUES (?, ?, ?, ?, ?, 1, ?)"};
constexpr Query kSelectAllocationsOfOrder{"select_allocations_of_order",
    "SELECT id, order_id, line_id, sku, location_id, quantity, open, event_id, shipped FROM allocations "
    "WHERE order_id = ? ORDER BY id"};
constexpr Query kShrinkAllocation{"shrink_allocation",
    "UPDATE allocations SET quantity = ?2 WHERE id = ?1 AND open = 1 AND quantity > ?2 AND ?2 > 0"};
constexpr Query kCloseAllocation{"close_allocation",
    "UPDATE allocations SET open = 0, shipped = ?2 WHERE id = ?1 AND open = 1"};
// Holds and open allocations are summed in one grouped pass each: neither is indexed by SKU.
constexpr Query kTotals{"inventory_totals",
    "WITH open_allocated AS ("
    "  SELECT sku, location_id, SUM(quantity) AS units FROM allocations WHERE open = 1"
    "  GROUP BY sku, location_id), "
    "held AS ("
    "  SELECT sku, location_id, SUM(quantity) AS units FROM holds GROUP BY sku, location_id), "
    "keys AS ("
    "  SELECT sku, location_id FROM stock_levels"
    "  UNION SELECT sku, location_id FROM movements"
    "  UNION SELECT sku, location_id FROM held"
    "  UNION SELECT sku, location_id FROM open_allocated) "
    "SELECT k.sku, k.location_id, l.sku IS NOT NULL, COALESCE(l.on_hand, 0),"
    "  (SELECT COALESCE(SUM(delta), 0) FROM movements m"
    "    WHERE m.sku = k.sku AND m.location_id = k.location_id),"
    "  COALESCE(l.reserved, 0),"
    "  COALESCE(h.units, 0),"
    "  COALESCE(l.allocated, 0),"
    "  COALESCE(a.units, 0),"
    "  COALESCE(l.safety_stock, 0) "
    "FROM keys k LEFT JOIN stock_levels l ON l.sku = k.sku AND l.location_id = k.location_id "
    "LEFT JOIN held h ON h.sku = k.sku AND h.location_id = k.location_id "
    "LEFT JOIN open_allocated a ON a.sku = k.sku AND a.location_id = k.location_id "
    "ORDER BY k.sku, k.location_id"};

inventory::Location ReadLocation(const Rows& r) {
  inventory::Location l;
  l.id = r.Int(0);
  l.code = r.Text(1);
  l.name = r.Text(2);
  auto kind = inventory::ParseLocationKind(r.Text(3));
  if (!kind) TANDEM_UNEXPECTED("unknown location kind in database");
  l.kind = kind.value_or(inventory::LocationKind::kStore);
  l.address = r.Text(4);
  l.latitude = r.Real(5);
  l.longitude = r.Real(6);
  l.ships_orders = r.Int(7) != 0;
  l.pickup = r.Int(8) != 0;
  l.sells_in_store = r.Int(9) != 0;
  l.safety_stock_default = r.Int(10);
  l.daily_capacity = r.Int(11);
  return l;
}

inventory::StockLevel ReadLevel(const Rows& r) {
  return inventory::StockLevel{r.Text(0), r.Int(1), r.Int(2), r.Int(3), r.Int(4), r.Int(5)};
}

inventory::Hold ReadHold(const Rows& r) {
  return inventory::Hold{r.Int(0), r.Int(1), r.Text(2), r.Int(3), r.Int(4), r.Int(5), r.OptInt(6)};
}

// ---- sale events ----
constexpr Query kInsertSaleEvent{"insert_sale_event",
    "INSERT INTO sale_events (name, starts_ms, ends_ms, per_customer_limit, created_ms) "
    "VALUES (?, ?, ?, ?, ?)"};
constexpr Query kInsertSaleEventSku{"insert_sale_event_sku",
    "INSERT INTO sale_event_skus (event_id, sku, ring_fenced) VALUES (?, ?, ?)"};
constexpr Query kSelectSaleEvent{"select_sale_event",
    "SELECT id, name, starts_ms, ends_ms, per_customer_limit, created_ms FROM sale_events "
    "WHERE id = ?"};
constexpr Query kSelectSaleEvents{"select_sale_events",
    "SELECT id, name, starts_ms, ends_ms, per_customer_limit, created_ms FROM sale_events "
    "ORDER BY starts_ms DESC, id DESC LIMIT ?"};
constexpr Query kSelectSaleEventSkus{"select_sale_event_skus",
    "SELECT event_id, sku, ring_fenced, committed FROM sale_event_skus WHERE event_id = ? "
    "ORDER BY sku"};
constexpr Query kSelectEventSkus{"select_event_skus", "SELECT DISTINCT sku FROM sale_event_skus"};
constexpr Query kSelectActiveEventSku{"select_active_event_sku",
    "SELECT s.event_id, s.sku, s.ring_fenced, s.committed FROM sale_event_skus s "
    "JOIN sale_events e ON e.id = s.event_id WHERE s.sku = ?1 AND e.starts_ms <= ?2 "
    "AND ?2 < e.ends_ms ORDER BY e.id LIMIT 1"};
constexpr Query kEventOverlaps{"sale_event_overlaps",
    "SELECT 1 FROM sale_event_skus s JOIN sale_events e ON e.id = s.event_id "
    "WHERE s.sku = ?1 AND e.starts_ms < ?3 AND ?2 < e.ends_ms LIMIT 1"};
constexpr Query kCommitEvent{"commit_sale_event",
    "UPDATE sale_event_skus SET committed = committed + ?3 WHERE event_id = ?1 AND sku = ?2 "
    "AND committed + ?3 <= ring_fenced"};
constexpr Query kUncommitEvent{"uncommit_sale_event",
    "UPDATE sale_event_skus SET committed = committed - ?3 WHERE event_id = ?1 AND sku = ?2 "
    "AND committed >= ?3"};
constexpr Query kPurchased{"sale_event_purchased",
    "SELECT quantity FROM sale_event_purchases WHERE event_id = ? AND customer_key = ? AND sku = ?"};
// The limit is checked by the statement that records the purchase.
constexpr Query kAddPurchase{"add_sale_event_purchase",
    "INSERT INTO sale_event_purchases (event_id, customer_key, sku, quantity) "
    "SELECT ?1, ?2, ?3, ?4 WHERE ?4 <= ?5 "
    "ON CONFLICT (event_id, customer_key, sku) DO UPDATE SET quantity = quantity + ?4 "
    "WHERE quantity + ?4 <= ?5"};
// The event's holds are summed in one grouped pass: holds are not indexed by event or SKU.
constexpr Query kEventTotals{"sale_event_totals",
    "WITH held AS ("
    "  SELECT event_id, sku, SUM(quantity) AS units FROM holds WHERE event_id IS NOT NULL"
    "  GROUP BY event_id, sku) "
    "SELECT s.event_id, s.sku, s.ring_fenced, s.committed, COALESCE(h.units, 0),"
    "  (SELECT COALESCE(SUM(quantity), 0) FROM allocations a WHERE a.event_id = s.event_id"
    "    AND a.sku = s.sku AND (a.open = 1 OR a.shipped = 1)) "
    "FROM sale_event_skus s LEFT JOIN held h ON h.event_id = s.event_id AND h.sku = s.sku "
    "WHERE ?1 = 0 OR s.event_id = ?1 ORDER BY s.event_id, s.sku"};

constexpr Query kInsertTransfer{"insert_transfer",
    "INSERT INTO transfers (sku, from_location_id, to_location_id, quantity, status, note, "
    "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)"};
constexpr Query kSelectTransfer{"select_transfer",
    "SELECT id, sku, from_location_id, to_location_id, quantity, status, note, created_ms, "
    "COALESCE(received_ms, 0) FROM transfers WHERE id = ?"};
constexpr Query kReceiveTransfer{"receive_transfer",
    "UPDATE transfers SET status = 'received', received_ms = ?2 WHERE id = ?1 "
    "AND status = 'in_transit'"};
constexpr Query kSelectTransfers{"select_transfers",
    "SELECT id, sku, from_location_id, to_location_id, quantity, status, note, created_ms, "
    "COALESCE(received_ms, 0) FROM transfers WHERE (?1 = '' OR status = ?1) "
    "AND (?2 = 0 OR id < ?2) ORDER BY id DESC LIMIT ?3"};

inventory::Transfer ReadTransfer(const Rows& r) {
  return inventory::Transfer{r.Int(0), r.Text(1), r.Int(2), r.Int(3), r.Int(4),
                             r.Text(5), r.Text(6), r.Int(7), r.Int(8)};
}

inventory::SaleEvent ReadSaleEvent(const Rows& r) {
  return inventory::SaleEvent{r.Int(0), r.Text(1), r.Int(2), r.Int(3), r.Int(4), r.Int(5)};
}

// ---- accounts ----
constexpr Query kInsertAccount{"insert_account",
    "INSERT INTO accounts (email, name, phone, role, password_hash, newsletter_opt_in, "
    "consent_at_ms, consent_source, created_ms, location_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"};
constexpr Query kSelectAccount{"select_account",
    "SELECT id, email, name, phone, role, password_hash, newsletter_opt_in, consent_at_ms, "
    "consent_source, created_ms, location_id FROM accounts WHERE id = ?"};
constexpr Query kSelectAccountByEmail{"select_account_by_email",
    "SELECT id, email, name, phone, role, password_hash, newsletter_opt_in, consent_at_ms, "
    "consent_source, created_ms, location_id FROM accounts WHERE email = ?"};
constexpr Query kReplacePasswordHash{"replace_password_hash",
    "UPDATE accounts SET password_hash = ? WHERE id = ? AND password_hash = ?"};
constexpr Query kInsertSession{"insert_session",
    "INSERT INTO sessions (token_hash, account_id, created_ms, expires_ms) VALUES (?, ?, ?, ?)"};
constexpr Query kSelectSession{"select_session",
    "SELECT token_hash, account_id, created_ms, expires_ms, revoked FROM sessions "
    "WHERE token_hash = ?"};
constexpr Query kRevokeSession{"revoke_session",
    "UPDATE sessions SET revoked = 1 WHERE token_hash = ?"};
constexpr Query kExtendSession{"extend_session",
    "UPDATE sessions SET expires_ms = ? WHERE token_hash = ? AND revoked = 0 AND expires_ms > ? "
    "AND expires_ms < ?"};

customers::Account ReadAccount(const Rows& r) {
  customers::Account a;
  a.id = r.Int(0);
  a.email = r.Text(1);
  a.name = r.Text(2);
  a.phone = r.Text(3);
  auto role = customers::ParseRole(r.Text(4));
  if (!role) TANDEM_UNEXPECTED("unknown role in database");
  a.role = role.value_or(customers::Role::kCustomer);
  a.password_hash = r.Text(5);
  a.newsletter_opt_in = r.Int(6) != 0;
  a.consent_at_ms = r.Int(7);
  a.consent_source = r.Text(8);
  a.created_ms = r.Int(9);
  a.location_id = r.OptInt(10);
  return a;
}

// ---- carts and orders ----
constexpr Query kInsertCart{"insert_cart",
    "INSERT INTO carts (token_hash, customer_id, open, created_ms, updated_ms) "
    "VALUES (?, ?, 1, ?, ?)"};
// The cart and, when it is open, its lines (in SKU order), one row per line: one statement
// instead of two, about a quarter of a microsecond less per cart read (docs/performance.md,
// step 18). A checked-out cart keeps its lines, unread (migration 7): one row, lines NULL.
constexpr Query kSelectCart{"select_cart",
    "SELECT c.id, c.token_hash, c.customer_id, c.open, c.fulfillment_method, c.address, "
    "c.location_id, c.service, c.created_ms, c.updated_ms, l.sku, l.quantity, l.position "
    "FROM carts c LEFT JOIN cart_lines l ON c.open = 1 AND l.cart_id = c.id WHERE c.id = ?"};
constexpr Query kSaveCartFulfillment{"save_cart_fulfillment",
    "UPDATE carts SET fulfillment_method = ?2, address = ?3, location_id = ?4, service = ?5, "
    "updated_ms = ?6 WHERE id = ?1"};
// Only the flag and the time: growing the row by the address moved cells between pages.
constexpr Query kCloseCart{"close_cart", "UPDATE carts SET open = 0, updated_ms = ?2 WHERE id = ?1"};
constexpr Query kUpsertCartLine{"upsert_cart_line",
    "INSERT INTO cart_lines (cart_id, sku, quantity, position) VALUES (?1, ?2, ?3, "
    "(SELECT COALESCE(MAX(position), 0) + 1 FROM cart_lines WHERE cart_id = ?1)) "
    "ON CONFLICT (cart_id, sku) DO UPDATE SET quantity = ?3"};
constexpr Query kDeleteCartLine{"delete_cart_line",
    "DELETE FROM cart_lines WHERE cart_id = ? AND sku = ?"};
constexpr Query kOpenCartsWithSku{"open_carts_with_sku",
    "SELECT c.id FROM carts c JOIN cart_lines l ON l.cart_id = c.id AND l.sku = ?1 "
    "WHERE c.open = 1 ORDER BY c.id LIMIT ?2"};  // through carts_open: open carts only
constexpr Query kTouchCart{"touch_cart", "UPDATE carts SET updated_ms = ? WHERE id = ?"};
constexpr Query kInsertOrder{"insert_order",
    "INSERT INTO orders (number, tracking_code, access_token_hash, customer_id, channel, "
    "email, name, phone, status, payment_method, fulfillment_method, address, location_id, "
    "service, currency, subtotal, discount, shipping, total, newsletter_opt_in, cart_id, "
    "created_ms, updated_ms, placed_by, placed_status, placed_note) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"};
constexpr Query kInsertOrderLine{"insert_order_line",
    "INSERT INTO order_lines (order_id, sku, product_id, name, options, image_url, "
    "unit_price, quantity, line_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"};
// The year's next order number, drawn and recorded in one statement: correct whatever else
// draws one at the same time.
constexpr Query kNextOrderSequence{"next_order_sequence",
    "INSERT INTO order_sequences (year, last) VALUES (?, 1) "
    "ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last"};
constexpr Query kInsertTimeline{"insert_timeline",
    "INSERT INTO order_timeline (order_id, at_ms, actor, from_status, to_status, note, "
    "public_note) VALUES (?, ?, ?, ?, ?, ?, ?)"};
constexpr Query kSelectOrder{"select_order",
    "SELECT id, number, tracking_code, access_token_hash, customer_id, channel, email, name, "
    "phone, status, payment_method, fulfillment_method, address, location_id, service, currency, "
    "subtotal, discount, shipping, total, newsletter_opt_in, carrier, tracking_number, cart_id, "
    "created_ms, updated_ms, placed_by, placed_status, placed_note FROM orders WHERE id = ?"};
constexpr Query kSelectOrderIdByTracking{"select_order_id_by_tracking",
    "SELECT id FROM orders WHERE tracking_code = ?"};
constexpr Query kSelectOrderLines{"select_order_lines",
    "SELECT id, sku, product_id, name, options, image_url, unit_price, quantity, line_total, "
    "unfulfillable FROM order_lines WHERE order_id = ? ORDER BY id"};
constexpr Query kAddUnfulfillable{"add_unfulfillable",
    "UPDATE order_lines SET unfulfillable = unfulfillable + ?2 WHERE id = ?1 "
    "AND unfulfillable + ?2 <= quantity"};
constexpr Query kSelectTimeline{"select_timeline",
    "SELECT at_ms, actor, from_status, to_status, note, public_note FROM order_timeline "
    "WHERE order_id = ? ORDER BY id"};
constexpr Query kSelectLinks{"select_order_links",
    "SELECT related_id FROM order_links WHERE order_id = ? ORDER BY related_id"};
constexpr Query kUpdateStatus{"update_order_status",
    "UPDATE orders SET status = ?3, carrier = CASE WHEN ?4 = '' THEN carrier ELSE ?4 END, "
    "tracking_number = CASE WHEN ?5 = '' THEN tracking_number ELSE ?5 END, updated_ms = ?6 "
    "WHERE id = ?1 AND status = ?2"};
constexpr Query kListOrders{"list_orders",
    "SELECT id FROM orders WHERE (?1 IS NULL OR channel = ?1) AND (?2 IS NULL OR status = ?2) "
    "AND (?3 IS NULL OR customer_id = ?3) "
    "AND (?4 = '' OR number LIKE ?4 ESCAPE '\\' OR email LIKE ?4 ESCAPE '\\' "
    "     OR name LIKE ?4 ESCAPE '\\') "
    "AND (?5 = 0 OR id < ?5) ORDER BY id DESC LIMIT ?6"};
constexpr Query kRecentOrderOfCustomer{"recent_order_of_customer",
    "SELECT id FROM orders WHERE customer_id = ? AND created_ms >= ? "
    "ORDER BY created_ms DESC, id DESC LIMIT 1"};
constexpr Query kIsOrderOfEmailSince{"is_order_of_email_since",
    "SELECT 1 FROM orders WHERE id = ? AND email = ? AND created_ms >= ?"};
constexpr Query kLinkOrders{"link_orders",
    "INSERT INTO order_links (order_id, related_id) VALUES (?, ?) ON CONFLICT DO NOTHING"};
constexpr Query kVerifiedPaymentAmount{"verified_payment_amount",
    "SELECT COALESCE(SUM(amount - refunded), 0) FROM payments "
    "WHERE order_id = ? AND status IN ('verified', 'refunded')"};

// ---- tx ----
constexpr Query kSelectIdempotency{"select_idempotency",
    "SELECT request_hash, status, body FROM idempotency WHERE key = ?"};
constexpr Query kInsertIdempotency{"insert_idempotency",
    "INSERT INTO idempotency (key, request_hash, status, body, created_ms) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (key) DO NOTHING"};
constexpr Query kSelectSetting{"select_setting", "SELECT value FROM settings WHERE key = ?"};
constexpr Query kPutSetting{"put_setting",
    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2"};

std::optional<std::string> AddressToJson(const std::optional<orders::Address>& a) {
  if (!a) return std::nullopt;
  JsonWriter w;
  w.BeginObject();
  w.Key("name").String(a->name);
  w.Key("line1").String(a->line1);
  w.Key("line2").String(a->line2);
  w.Key("city").String(a->city);
  w.Key("postcode").String(a->postcode);
  w.Key("country").String(a->country);
  w.Key("phone").String(a->phone);
  w.EndObject();
  return w.Take();
}

std::optional<orders::Address> AddressFromJson(const Rows& r, int col) {
  if (r.IsNull(col)) return std::nullopt;
  json j = json::parse(r.Text(col), nullptr, false);
  if (!j.is_object()) {
    TANDEM_UNEXPECTED("address column is not a JSON object");
    return std::nullopt;
  }
  return orders::Address{j.value("name", ""),     j.value("line1", ""), j.value("line2", ""),
                         j.value("city", ""),     j.value("postcode", ""),
                         j.value("country", ""),  j.value("phone", "")};
}

orders::Fulfillment ReadFulfillment(const Rows& r, int first_col) {
  orders::Fulfillment f;
  auto method = orders::ParseFulfillment(r.Text(first_col));
  if (!method) TANDEM_UNEXPECTED("unknown fulfilment method in database");
  f.method = method.value_or(orders::FulfillmentMethod::kDelivery);
  f.address = AddressFromJson(r, first_col + 1);
  f.location_id = r.OptInt(first_col + 2);
  f.service = r.Text(first_col + 3);
  return f;
}

}  // namespace

// ======== SqliteCatalogStore ========

int64_t SqliteCatalogStore::InsertProduct(const catalog::Product& p) {
  c_.Exec(kInsertProduct, p.name, p.description, p.category, p.active, p.created_ms,
          p.updated_ms);
  catalog::Product stored = p;
  stored.id = c_.LastInsertId();
  UpsertVariants(stored);
  Index(stored);
  return stored.id;
}

void SqliteCatalogStore::SaveProduct(const catalog::Product& p) {
  TANDEM_CHECK(c_.Exec(kUpdateProduct, p.id, p.name, p.description, p.category, p.active,
                       p.updated_ms) == 1);
  UpsertVariants(p);
  Index(p);
}

void SqliteCatalogStore::UpsertVariants(const catalog::Product& p) {
  int64_t position = 0;
  for (const catalog::Variant& v : p.variants) {
    // The WHERE of the upsert refuses to take over another product's SKU.
    TANDEM_CHECK(c_.Exec(kUpsertVariant, v.sku, p.id, v.price.amount, v.price.currency,
                         OptionsToJson(v.options), v.image_url, v.active, position++, v.barcode,
                         v.weight_grams) == 1);
  }
}

void SqliteCatalogStore::Index(const catalog::Product& p) {
  std::string variants_text;
  for (const catalog::Variant& v : p.variants) {
    variants_text += v.sku + ' ';
    for (const auto& o : v.options) variants_text += o.value + ' ';
  }
  c_.Exec(kDeleteSearchRow, p.id);
  c_.Exec(kInsertSearchRow, p.id, p.name, p.description, p.category, variants_text);
}

std::optional<catalog::Product> SqliteCatalogStore::FindProduct(int64_t id) {
  catalog::Product p;
  {
    Rows r = c_.Select(kSelectProduct, id);
    if (!r.Next()) return std::nullopt;
    p.id = r.Int(0);
    p.name = r.Text(1);
    p.description = r.Text(2);
    p.category = r.Text(3);
    p.active = r.Int(4) != 0;
    p.created_ms = r.Int(5);
    p.updated_ms = r.Int(6);
  }
  Rows v = c_.Select(kSelectVariantsOfProduct, id);
  while (v.Next()) p.variants.push_back(ReadVariant(v));
  return p;
}

std::optional<catalog::Variant> SqliteCatalogStore::FindVariant(const std::string& sku) {
  Rows r = c_.Select(kSelectVariant, sku);
  if (!r.Next()) return std::nullopt;
  return ReadVariant(r);
}

std::optional<catalog::VariantWithProduct> SqliteCatalogStore::FindVariantWithProduct(
    const std::string& sku) {
  if (cache_) {
    auto it = cache_->variants.find(sku);
    if (it != cache_->variants.end()) return it->second;
  }
  std::optional<catalog::VariantWithProduct> found;
  {
    Rows r = c_.Select(kSelectVariantWithProduct, sku);
    if (r.Next()) found = catalog::VariantWithProduct{ReadVariant(r), r.Text(9), r.Int(10) != 0};
  }
  if (cache_) {
    if (cache_->variants.size() >= ReferenceCache::kVariantsMax) cache_->variants.clear();
    cache_->variants.emplace(sku, found);
  }
  return found;
}

namespace {

// Each term quoted (so FTS5's operators are words like any other) and prefix-matched; the terms
// ANDed.
std::string FtsQuery(const std::vector<std::string>& terms) {
  std::string query;
  for (const std::string& term : terms) {
    if (!query.empty()) query += ' ';
    query += '"';
    for (char c : term) query += c == '"' ? std::string("\"\"") : std::string(1, c);
    query += "\"*";
  }
  return query;
}

}  // namespace

std::vector<int64_t> SqliteCatalogStore::SearchProducts(const std::vector<std::string>& terms,
                                                        int limit, int64_t offset) {
  std::vector<int64_t> ids;
  const std::string fts_query = FtsQuery(terms);
  if (fts_query.empty()) {
    Rows r = c_.Select(kListProducts, limit, offset);
    while (r.Next()) ids.push_back(r.Int(0));
  } else {
    Rows r = c_.Select(kSearchProducts, fts_query, limit, offset);
    while (r.Next()) ids.push_back(r.Int(0));
  }
  return ids;
}

std::unordered_set<std::string> ReadEventSkus(Connection& c) {
  std::unordered_set<std::string> skus;
  Rows r = c.Select(kSelectEventSkus);
  while (r.Next()) skus.insert(r.Text(0));
  return skus;
}

// ======== SqliteInventoryStore ========

int64_t SqliteInventoryStore::BacklogAt(int64_t location_id) {
  Rows r = c_.Select(kBacklogAt, location_id);
  return r.Next() ? r.Int(0) : 0;
}

int64_t SqliteInventoryStore::InsertLocation(const inventory::Location& l) {
  c_.Exec(kInsertLocation, l.code, l.name, std::string(inventory::LocationKindName(l.kind)),
          l.address, l.latitude, l.longitude, l.ships_orders, l.pickup, l.sells_in_store,
          l.safety_stock_default, l.daily_capacity);
  return c_.LastInsertId();
}

std::vector<inventory::Location> SqliteInventoryStore::Locations() {
  if (cache_ && cache_->locations) return *cache_->locations;
  std::vector<inventory::Location> out;
  {
    Rows r = c_.Select(kSelectLocations);
    while (r.Next()) out.push_back(ReadLocation(r));
  }
  if (cache_) cache_->locations = out;
  return out;
}

std::optional<inventory::Location> SqliteInventoryStore::FindLocation(int64_t id) {
  Rows r = c_.Select(kSelectLocation, id);
  if (!r.Next()) return std::nullopt;
  return ReadLocation(r);
}

std::optional<inventory::Location> SqliteInventoryStore::FindLocationByCode(
    const std::string& code) {
  Rows r = c_.Select(kSelectLocationByCode, code);
  if (!r.Next()) return std::nullopt;
  return ReadLocation(r);
}

std::vector<inventory::StockLevel> SqliteInventoryStore::Levels(const std::string& sku) {
  std::vector<inventory::StockLevel> out;
  Rows r = c_.Select(kSelectLevelsOfSku, sku);
  while (r.Next()) out.push_back(ReadLevel(r));
  return out;
}

std::vector<inventory::StockLevel> SqliteInventoryStore::LevelsAt(int64_t location_id,
                                                                  const std::string& after_sku,
                                                                  int limit) {
  std::vector<inventory::StockLevel> out;
  Rows r = c_.Select(kSelectLevelsAt, location_id, after_sku, limit);
  while (r.Next()) out.push_back(ReadLevel(r));
  return out;
}

std::optional<inventory::StockLevel> SqliteInventoryStore::Level(const std::string& sku,
                                                                 int64_t location_id) {
  Rows r = c_.Select(kSelectLevel, sku, location_id);
  if (!r.Next()) return std::nullopt;
  return ReadLevel(r);
}

void SqliteInventoryStore::EnsureLevel(const std::string& sku, int64_t location_id,
                                       int64_t safety_stock) {
  c_.Exec(kEnsureLevel, sku, location_id, safety_stock);
}

bool SqliteInventoryStore::TryReserve(const std::string& sku, int64_t loc, int64_t qty) {
  return c_.Exec(kReserve, sku, loc, qty) == 1;
}

bool SqliteInventoryStore::TryUnreserve(const std::string& sku, int64_t loc, int64_t qty) {
  return c_.Exec(kUnreserve, sku, loc, qty) == 1;
}

bool SqliteInventoryStore::TryReservedToAllocated(const std::string& sku, int64_t loc,
                                                  int64_t qty) {
  return c_.Exec(kReservedToAllocated, sku, loc, qty) == 1;
}

bool SqliteInventoryStore::TryUnallocate(const std::string& sku, int64_t loc, int64_t qty) {
  return c_.Exec(kUnallocate, sku, loc, qty) == 1;
}

int64_t SqliteInventoryStore::RecordMovement(const inventory::Movement& m,
                                             int64_t allocated_delta) {
  if (c_.Exec(kMoveOnHand, m.sku, m.location_id, m.delta, allocated_delta) != 1) return 0;
  c_.Exec(kInsertMovement, m.sku, m.location_id, m.delta,
          std::string(inventory::MovementReasonName(m.reason)), m.reference, m.at_ms);
  return c_.LastInsertId();
}

int64_t SqliteInventoryStore::ForceMovement(const inventory::Movement& m) {
  TANDEM_CHECK(c_.Exec(kForceOnHand, m.sku, m.location_id, m.delta) == 1);
  c_.Exec(kInsertMovement, m.sku, m.location_id, m.delta,
          std::string(inventory::MovementReasonName(m.reason)), m.reference, m.at_ms);
  return c_.LastInsertId();
}

bool SqliteInventoryStore::TryAllocate(const std::string& sku, int64_t loc, int64_t qty) {
  return c_.Exec(kAllocate, sku, loc, qty) == 1;
}

bool SqliteInventoryStore::TrySetSafetyStock(const std::string& sku, int64_t loc, int64_t qty) {
  return c_.Exec(kSetSafetyStock, sku, loc, qty) == 1;
}

std::vector<inventory::Hold> SqliteInventoryStore::HoldsAt(const std::string& sku, int64_t loc) {
  std::vector<inventory::Hold> out;
  Rows r = c_.Select(kSelectHoldsAt, sku, loc);
  while (r.Next()) out.push_back(ReadHold(r));
  return out;
}

namespace {
std::vector<inventory::Allocation> ReadAllocations(Rows& r) {
  std::vector<inventory::Allocation> out;
  while (r.Next()) {
    out.push_back({r.Int(0), r.Int(1), r.Int(2), r.Text(3), r.Int(4), r.Int(5), r.Int(6) != 0,
                   r.OptInt(7), r.Int(8) != 0});
  }
  return out;
}
}  // namespace

std::vector<inventory::Allocation> SqliteInventoryStore::OpenAllocationsAt(const std::string& sku,
                                                                           int64_t loc,
                                                                           int64_t limit) {
  Rows r = c_.Select(kSelectOpenAllocationsAt, sku, loc, limit);
  return ReadAllocations(r);
}

std::vector<inventory::Allocation> SqliteInventoryStore::OpenAllocationsOfLocation(int64_t loc,
                                                                                   int limit) {
  Rows r = c_.Select(kSelectOpenAllocationsOfLocation, loc, limit);
  return ReadAllocations(r);
}

std::vector<inventory::Movement> SqliteInventoryStore::MovementsOf(const std::string& sku,
                                                                   int64_t location_id,
                                                                   int64_t before_id, int limit) {
  std::vector<inventory::Movement> out;
  Rows r = c_.Select(kSelectMovements, sku, location_id, limit, before_id);
  while (r.Next()) {
    auto reason = inventory::ParseMovementReason(r.Text(4));
    if (!reason) TANDEM_UNEXPECTED("unknown movement reason in database");
    out.push_back({r.Int(0), r.Text(1), r.Int(2), r.Int(3),
                   reason.value_or(inventory::MovementReason::kAdjustment), r.Text(5), r.Int(6)});
  }
  return out;
}

void SqliteInventoryStore::SawHoldOf(int64_t cart_id, int64_t id) {
  if (last_hold_.cart_id != cart_id) last_hold_ = {cart_id, cart_id * kHoldsPerCartMax};
  last_hold_.id = std::max(last_hold_.id, id);
}

// The new id is one past the largest this transaction saw for the cart: only this connection
// inserts holds while it holds the write lock, so nothing larger can be on the file. (A hold
// rolled back with its job leaves a gap, never a duplicate.)
int64_t SqliteInventoryStore::InsertHold(const inventory::Hold& h) {
  if (last_hold_.cart_id != h.cart_id) {
    Rows r = c_.Select(kSelectLastHoldOfCart, h.cart_id, kHoldsPerCartMax);
    SawHoldOf(h.cart_id, r.Next() ? r.Int(0) : 0);
  }
  const int64_t id = last_hold_.id + 1;
  if (id > (h.cart_id + 1) * kHoldsPerCartMax) return 0;
  c_.Exec(kInsertHold, id, h.cart_id, h.sku, h.location_id, h.quantity, h.expires_ms,
          h.event_id);
  SawHoldOf(h.cart_id, id);
  return id;
}

std::vector<inventory::Hold> SqliteInventoryStore::HoldsOfCart(int64_t cart_id) {
  std::vector<inventory::Hold> out;
  {
    Rows r = c_.Select(kSelectHoldsOfCart, cart_id, kHoldsPerCartMax);
    while (r.Next()) out.push_back(ReadHold(r));
  }
  SawHoldOf(cart_id, out.empty() ? 0 : out.back().id);
  return out;
}

void SqliteInventoryStore::DeleteHold(int64_t hold_id) {
  TANDEM_CHECK(c_.Exec(kDeleteHold, hold_id) == 1);
}

void SqliteInventoryStore::ExtendHolds(int64_t cart_id, int64_t now_ms, int64_t expires_ms) {
  c_.Exec(kExtendHolds, cart_id, kHoldsPerCartMax, now_ms, expires_ms);
}

std::vector<inventory::Hold> SqliteInventoryStore::ExpiredHolds(int64_t now_ms,
                                                                const std::string& sku,
                                                                int limit) {
  std::vector<inventory::Hold> out;
  if (sku.empty()) {
    Rows r = c_.Select(kSelectExpiredHolds, now_ms, limit);
    while (r.Next()) out.push_back(ReadHold(r));
  } else {
    Rows r = c_.Select(kSelectExpiredHoldsOfSku, sku, now_ms, limit);
    while (r.Next()) out.push_back(ReadHold(r));
  }
  return out;
}

int64_t SqliteInventoryStore::InsertAllocation(const inventory::Allocation& a) {
  c_.Exec(kInsertAllocation, a.order_id, a.line_id, a.sku, a.location_id, a.quantity,
          a.event_id);
  return c_.LastInsertId();
}

std::vector<inventory::Allocation> SqliteInventoryStore::AllocationsOfOrder(int64_t order_id) {
  Rows r = c_.Select(kSelectAllocationsOfOrder, order_id);
  return ReadAllocations(r);
}

void SqliteInventoryStore::CloseAllocation(int64_t allocation_id, bool shipped) {
  TANDEM_CHECK(c_.Exec(kCloseAllocation, allocation_id, shipped) == 1);
}

void SqliteInventoryStore::ShrinkAllocation(int64_t allocation_id, int64_t quantity) {
  TANDEM_CHECK(c_.Exec(kShrinkAllocation, allocation_id, quantity) == 1);
}

std::vector<inventory::LevelTotals> SqliteInventoryStore::Totals() {
  std::vector<inventory::LevelTotals> out;
  Rows r = c_.Select(kTotals);
  while (r.Next()) {
    inventory::LevelTotals t;
    t.sku = r.Text(0);
    t.location_id = r.Int(1);
    t.has_level = r.Int(2) != 0;
    t.on_hand = r.Int(3);
    t.ledger_sum = r.Int(4);
    t.reserved = r.Int(5);
    t.holds_sum = r.Int(6);
    t.allocated = r.Int(7);
    t.allocations_sum = r.Int(8);
    t.safety_stock = r.Int(9);
    out.push_back(std::move(t));
  }
  return out;
}

int64_t SqliteInventoryStore::InsertSaleEvent(const inventory::SaleEvent& e,
                                              const std::vector<inventory::SaleEventSku>& skus) {
  c_.Exec(kInsertSaleEvent, e.name, e.starts_ms, e.ends_ms, e.per_customer_limit, e.created_ms);
  int64_t id = c_.LastInsertId();
  for (const auto& s : skus) c_.Exec(kInsertSaleEventSku, id, s.sku, s.ring_fenced);
  return id;
}

std::optional<inventory::SaleEvent> SqliteInventoryStore::FindSaleEvent(int64_t id) {
  Rows r = c_.Select(kSelectSaleEvent, id);
  if (!r.Next()) return std::nullopt;
  return ReadSaleEvent(r);
}

std::vector<inventory::SaleEvent> SqliteInventoryStore::SaleEvents(int limit) {
  std::vector<inventory::SaleEvent> out;
  Rows r = c_.Select(kSelectSaleEvents, limit);
  while (r.Next()) out.push_back(ReadSaleEvent(r));
  return out;
}

std::vector<inventory::SaleEventSku> SqliteInventoryStore::SaleEventSkus(int64_t event_id) {
  std::vector<inventory::SaleEventSku> out;
  Rows r = c_.Select(kSelectSaleEventSkus, event_id);
  while (r.Next()) out.push_back({r.Int(0), r.Text(1), r.Int(2), r.Int(3)});
  return out;
}

std::optional<inventory::SaleEventSku> SqliteInventoryStore::ActiveEventSku(const std::string& sku,
                                                                            int64_t now_ms) {
  if (cache_) {
    if (!cache_->event_skus) {
      cache_->event_skus = ReadEventSkus(c_);
    }
    if (cache_->event_skus->count(sku) == 0) return std::nullopt;
  }
  Rows r = c_.Select(kSelectActiveEventSku, sku, now_ms);
  if (!r.Next()) return std::nullopt;
  return inventory::SaleEventSku{r.Int(0), r.Text(1), r.Int(2), r.Int(3)};
}

bool SqliteInventoryStore::EventOverlaps(const std::string& sku, int64_t starts_ms,
                                         int64_t ends_ms) {
  Rows r = c_.Select(kEventOverlaps, sku, starts_ms, ends_ms);
  return r.Next();
}

bool SqliteInventoryStore::TryCommitEvent(int64_t event_id, const std::string& sku, int64_t qty) {
  return c_.Exec(kCommitEvent, event_id, sku, qty) == 1;
}

bool SqliteInventoryStore::TryUncommitEvent(int64_t event_id, const std::string& sku,
                                            int64_t qty) {
  return c_.Exec(kUncommitEvent, event_id, sku, qty) == 1;
}

int64_t SqliteInventoryStore::Purchased(int64_t event_id, const std::string& customer_key,
                                        const std::string& sku) {
  Rows r = c_.Select(kPurchased, event_id, customer_key, sku);
  return r.Next() ? r.Int(0) : 0;
}

bool SqliteInventoryStore::TryAddPurchase(int64_t event_id, const std::string& customer_key,
                                          const std::string& sku, int64_t qty, int64_t limit) {
  return c_.Exec(kAddPurchase, event_id, customer_key, sku, qty, limit) == 1;
}

std::vector<inventory::EventTotals> SqliteInventoryStore::EventTotalsOf(int64_t event_id) {
  std::vector<inventory::EventTotals> out;
  Rows r = c_.Select(kEventTotals, event_id);
  while (r.Next()) out.push_back({r.Int(0), r.Text(1), r.Int(2), r.Int(3), r.Int(4), r.Int(5)});
  return out;
}

int64_t SqliteInventoryStore::InsertTransfer(const inventory::Transfer& t) {
  c_.Exec(kInsertTransfer, t.sku, t.from_location_id, t.to_location_id, t.quantity, t.status,
          t.note, t.created_ms);
  return c_.LastInsertId();
}

std::optional<inventory::Transfer> SqliteInventoryStore::FindTransfer(int64_t id) {
  Rows r = c_.Select(kSelectTransfer, id);
  if (!r.Next()) return std::nullopt;
  return ReadTransfer(r);
}

bool SqliteInventoryStore::MarkTransferReceived(int64_t id, int64_t now_ms) {
  return c_.Exec(kReceiveTransfer, id, now_ms) == 1;
}

std::vector<inventory::Transfer> SqliteInventoryStore::Transfers(const std::string& status,
                                                                 int64_t before_id, int limit) {
  std::vector<inventory::Transfer> out;
  Rows r = c_.Select(kSelectTransfers, status, before_id, limit);
  while (r.Next()) out.push_back(ReadTransfer(r));
  return out;
}

// ======== SqliteOrderStore ========

int64_t SqliteOrderStore::InsertCart(const orders::Cart& cart) {
  c_.Exec(kInsertCart, cart.token_hash, cart.customer_id, cart.created_ms, cart.updated_ms);
  return c_.LastInsertId();
}

std::optional<orders::Cart> SqliteOrderStore::FindCart(int64_t id) {
  orders::Cart cart;
  // Ordered by position here: SQLite would sort them in a sorter of its own, twice per flash
  // session, at a microsecond each.
  std::vector<std::pair<int64_t, orders::CartLine>> lines;
  {
    Rows r = c_.Select(kSelectCart, id);
    if (!r.Next()) return std::nullopt;
    cart.id = r.Int(0);
    cart.token_hash = r.Text(1);
    cart.customer_id = r.OptInt(2);
    cart.open = r.Int(3) != 0;
    cart.fulfillment = ReadFulfillment(r, 4);
    cart.created_ms = r.Int(8);
    cart.updated_ms = r.Int(9);
    if (!r.IsNull(10)) {
      do {
        lines.push_back({r.Int(12), {r.Text(10), r.Int(11)}});
      } while (r.Next());
    }
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [position, line] : lines) cart.lines.push_back(std::move(line));
  return cart;
}

void SqliteOrderStore::SaveCartFulfillment(int64_t cart_id, const orders::Fulfillment& f,
                                           int64_t now_ms) {
  c_.Exec(kSaveCartFulfillment, cart_id, std::string(orders::FulfillmentName(f.method)),
          AddressToJson(f.address), f.location_id, f.service, now_ms);
}

void SqliteOrderStore::SetCartLine(int64_t cart_id, const std::string& sku, int64_t quantity,
                                   int64_t now_ms) {
  if (quantity == 0) {
    c_.Exec(kDeleteCartLine, cart_id, sku);
  } else {
    c_.Exec(kUpsertCartLine, cart_id, sku, quantity);
  }
  c_.Exec(kTouchCart, now_ms, cart_id);
}

void SqliteOrderStore::CloseCart(int64_t cart_id, int64_t now_ms) {
  TANDEM_CHECK(c_.Exec(kCloseCart, cart_id, now_ms) == 1);
}

std::vector<int64_t> SqliteOrderStore::OpenCartsWithSku(const std::string& sku, int limit) {
  std::vector<int64_t> ids;
  Rows r = c_.Select(kOpenCartsWithSku, sku, limit);
  while (r.Next()) ids.push_back(r.Int(0));
  return ids;
}

int64_t SqliteOrderStore::NextOrderSequence(int year) {
  Rows r = c_.Select(kNextOrderSequence, year);
  TANDEM_CHECK(r.Next());
  return r.Int(0);
}

int64_t SqliteOrderStore::InsertOrder(orders::Order& o) {
  // The placement entry (migration 11) goes into the order's row; any other entry is a row.
  const orders::TimelineEntry* placed = nullptr;
  if (!o.timeline.empty() && o.timeline.front().from.empty() &&
      o.timeline.front().at_ms == o.created_ms) {
    placed = &o.timeline.front();
  }
  std::optional<std::string_view> placed_by, placed_status, placed_note;  // NULL: not folded
  if (placed) {
    placed_by = placed->actor;
    placed_status = placed->to;
    placed_note = placed->note;
  }
  c_.Exec(kInsertOrder, o.number, o.tracking_code, o.access_token_hash, o.customer_id,
                   o.channel, o.email, o.name, o.phone, orders::StatusName(o.status),
                   orders::PaymentMethodName(o.payment_method),
                   orders::FulfillmentName(o.fulfillment.method),
                   AddressToJson(o.fulfillment.address), o.fulfillment.location_id,
                   o.fulfillment.service, o.totals.total.currency, o.totals.subtotal.amount,
                   o.totals.discount.amount, o.totals.shipping.amount, o.totals.total.amount,
                   o.newsletter_opt_in, o.cart_id, o.created_ms, o.updated_ms, placed_by,
                   placed_status, placed_note);
  o.id = c_.LastInsertId();
  if (recent_) recent_->Add(o.email, o.id, o.created_ms);
  for (orders::OrderLine& l : o.lines) {
    c_.Exec(kInsertOrderLine, o.id, l.sku, l.product_id, l.name, l.options, l.image_url,
            l.unit_price.amount, l.quantity, l.line_total.amount);
    l.id = c_.LastInsertId();
  }
  for (const orders::TimelineEntry& e : o.timeline) {
    if (&e != placed) AppendTimeline(o.id, e);
  }
  return o.id;
}

std::optional<orders::Order> SqliteOrderStore::FindOrder(int64_t id) {
  orders::Order o;
  std::string currency;
  {
    Rows r = c_.Select(kSelectOrder, id);
    if (!r.Next()) return std::nullopt;
    o.id = r.Int(0);
    o.number = r.Text(1);
    o.tracking_code = r.Text(2);
    o.access_token_hash = r.Text(3);
    o.customer_id = r.OptInt(4);
    o.channel = r.Text(5);
    o.email = r.Text(6);
    o.name = r.Text(7);
    o.phone = r.Text(8);
    auto status = orders::ParseStatus(r.Text(9));
    TANDEM_CHECK(status.has_value());
    o.status = *status;
    auto payment = orders::ParsePaymentMethod(r.Text(10));
    TANDEM_CHECK(payment.has_value());
    o.payment_method = *payment;
    o.fulfillment = ReadFulfillment(r, 11);
    currency = r.Text(15);
    o.totals.subtotal = Money{r.Int(16), currency};
    o.totals.discount = Money{r.Int(17), currency};
    o.totals.shipping = Money{r.Int(18), currency};
    o.totals.total = Money{r.Int(19), currency};
    o.newsletter_opt_in = r.Int(20) != 0;
    o.carrier = r.Text(21);
    o.tracking_number = r.Text(22);
    o.cart_id = r.Int(23);
    o.created_ms = r.Int(24);
    o.updated_ms = r.Int(25);
    if (!r.IsNull(26)) o.timeline.push_back({o.created_ms, r.Text(26), "", r.Text(27), r.Text(28)});
  }
  {
    Rows r = c_.Select(kSelectOrderLines, id);
    while (r.Next()) {
      o.lines.push_back({r.Int(0), r.Text(1), r.Int(2), r.Text(3), r.Text(4), r.Text(5),
                         Money{r.Int(6), currency}, r.Int(7), Money{r.Int(8), currency},
                         r.Int(9)});
    }
  }
  {
    Rows r = c_.Select(kSelectTimeline, id);
    while (r.Next()) {
      o.timeline.push_back({r.Int(0), r.Text(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5)});
    }
  }
  Rows r = c_.Select(kSelectLinks, id);
  while (r.Next()) o.related_order_ids.push_back(r.Int(0));
  return o;
}

std::optional<orders::Order> SqliteOrderStore::FindOrderByTrackingCode(const std::string& code) {
  int64_t id = 0;
  {
    Rows r = c_.Select(kSelectOrderIdByTracking, code);
    if (!r.Next()) return std::nullopt;
    id = r.Int(0);
  }
  return FindOrder(id);
}

bool SqliteOrderStore::UpdateStatus(int64_t order_id, orders::OrderStatus from,
                                    orders::OrderStatus to, const std::string& carrier,
                                    const std::string& tracking_number, int64_t now_ms) {
  return c_.Exec(kUpdateStatus, order_id, std::string(orders::StatusName(from)),
                 std::string(orders::StatusName(to)), carrier, tracking_number, now_ms) == 1;
}

void SqliteOrderStore::AppendTimeline(int64_t order_id, const orders::TimelineEntry& e) {
  c_.Exec(kInsertTimeline, order_id, e.at_ms, e.actor, e.from, e.to, e.note, e.public_note);
}

std::vector<orders::Order> SqliteOrderStore::ListOrders(const orders::OrderFilter& f) {
  std::string like;
  if (!f.text.empty()) {
    like = "%";
    for (char ch : f.text) {
      if (ch == '%' || ch == '_' || ch == '\\') like += '\\';
      like += ch;
    }
    like += "%";
  }
  std::optional<std::string> status;
  if (f.status) status = std::string(orders::StatusName(*f.status));
  std::vector<int64_t> ids;
  {
    Rows r = c_.Select(kListOrders, f.channel, status, f.customer_id, like, f.before_id, f.limit);
    while (r.Next()) ids.push_back(r.Int(0));
  }
  std::vector<orders::Order> out;
  for (int64_t id : ids) {
    std::optional<orders::Order> o = FindOrder(id);
    TANDEM_CHECK(o.has_value());
    out.push_back(std::move(*o));
  }
  return out;
}

std::optional<int64_t> SqliteOrderStore::RecentOrderOf(std::optional<int64_t> customer_id,
                                                       const std::string& email,
                                                       int64_t since_ms) {
  if (customer_id) {
    Rows r = c_.Select(kRecentOrderOfCustomer, *customer_id, since_ms);
    if (r.Next()) return r.Int(0);
  }
  TANDEM_CHECK(recent_ != nullptr);  // orders are placed by the writer, which has one
  std::optional<int64_t> found = recent_->Candidate(c_, email, since_ms);
  // A candidate is confirmed: its order may have been rolled back, or be another e-mail's.
  if (found && !c_.Select(kIsOrderOfEmailSince, *found, email, since_ms).Next()) found.reset();
  return found;
}

void SqliteOrderStore::LinkOrders(int64_t a, int64_t b) {
  c_.Exec(kLinkOrders, a, b);
  c_.Exec(kLinkOrders, b, a);
}

void SqliteOrderStore::AddUnfulfillable(int64_t line_id, int64_t quantity) {
  TANDEM_CHECK(c_.Exec(kAddUnfulfillable, line_id, quantity) == 1);
}

int64_t SqliteOrderStore::VerifiedPaymentAmount(int64_t order_id) {
  Rows r = c_.Select(kVerifiedPaymentAmount, order_id);
  return r.Next() ? r.Int(0) : 0;
}

// ======== SqliteAccountStore ========

int64_t SqliteAccountStore::InsertAccount(const customers::Account& a) {
  c_.Exec(kInsertAccount, a.email, a.name, a.phone, std::string(customers::RoleName(a.role)),
          a.password_hash, a.newsletter_opt_in, a.consent_at_ms, a.consent_source, a.created_ms,
          a.location_id);
  return c_.LastInsertId();
}

std::optional<customers::Account> SqliteAccountStore::FindAccount(int64_t id) {
  Rows r = c_.Select(kSelectAccount, id);
  if (!r.Next()) return std::nullopt;
  return ReadAccount(r);
}

std::optional<customers::Account> SqliteAccountStore::FindAccountByEmail(
    const std::string& email) {
  Rows r = c_.Select(kSelectAccountByEmail, email);
  if (!r.Next()) return std::nullopt;
  return ReadAccount(r);
}

bool SqliteAccountStore::ReplacePasswordHash(int64_t account_id, const std::string& old_hash,
                                             const std::string& new_hash) {
  return c_.Exec(kReplacePasswordHash, new_hash, account_id, old_hash) == 1;
}

void SqliteAccountStore::InsertSession(const customers::Session& s) {
  c_.Exec(kInsertSession, s.token_hash, s.account_id, s.created_ms, s.expires_ms);
}

std::optional<customers::Session> SqliteAccountStore::FindSession(const std::string& token_hash) {
  Rows r = c_.Select(kSelectSession, token_hash);
  if (!r.Next()) return std::nullopt;
  return customers::Session{r.Text(0), r.Int(1), r.Int(2), r.Int(3), r.Int(4) != 0};
}

void SqliteAccountStore::RevokeSession(const std::string& token_hash) {
  c_.Exec(kRevokeSession, token_hash);
}

bool SqliteAccountStore::ExtendSession(const std::string& token_hash, int64_t expires_ms,
                                       int64_t now_ms) {
  return c_.Exec(kExtendSession, expires_ms, token_hash, now_ms, expires_ms) == 1;
}

// ======== SqliteTx ========

std::optional<IdempotencyRecord> SqliteTx::FindIdempotency(const std::string& key) {
  Rows r = c_.Select(kSelectIdempotency, key);
  if (!r.Next()) return std::nullopt;
  return IdempotencyRecord{r.Text(0), static_cast<int>(r.Int(1)), r.Text(2)};
}

bool SqliteTx::TrySaveIdempotency(const std::string& key, const IdempotencyRecord& record,
                                  int64_t now_ms) {
  return c_.Exec(kInsertIdempotency, key, record.request_hash, record.status, record.body,
                 now_ms) == 1;
}

std::optional<std::string> SqliteTx::GetSetting(const std::string& key) {
  Rows r = c_.Select(kSelectSetting, key);
  if (!r.Next()) return std::nullopt;
  return r.Text(0);
}

void SqliteTx::PutSetting(const std::string& key, const std::string& value) {
  c_.Exec(kPutSetting, key, value);
}

}  // namespace tandem::storage::sqlite
