// The shopper's and staff's order operations: cart lines with holds, fulfilment choice, checkout,
// state changes and cancellation. Each function runs inside the caller's write transaction over the
// stores in an OrderContext; on a non-ok result the caller rolls the transaction back, so a refused
// operation changes nothing. Not thread-safe: one context per transaction.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tandem/base/result.h"
#include "tandem/catalog/catalog.h"
#include "tandem/inventory/allocator.h"
#include "tandem/inventory/inventory.h"
#include "tandem/orders/order.h"

namespace tandem::orders {

// What one transaction's calls into this module would otherwise read twice: the flash-sale path
// is bound by its SQL statements. Only this module fills it. (Variants are read again: the
// writer's storage caches them.)
struct OrderMemo {
  // The live holds of cart `holds_cart_id` as the edit just made left them; taken by the next
  // view of that cart, dropped by anything else that changes holds.
  int64_t holds_cart_id = 0;
  std::optional<std::vector<inventory::Hold>> holds;
};

struct OrderContext {
  catalog::CatalogStore& catalog;
  inventory::InventoryStore& inventory;
  OrderStore& orders;
  int64_t now_ms = 0;
  int64_t hold_ttl_ms = 0;
  std::string actor;  // who acts, for the timeline
  OrderMemo memo;
};

struct CartLineView {
  CartLine line;
  catalog::Variant variant;
  std::string product_name;
  int64_t held = 0;  // units covered by live holds
  Money line_total;
  bool sold = true;  // false once the product or variant is deactivated
  // When the line is not fully held: "sold_out" if it can no longer be promised online,
  // "not_held" if the hold ran out but units remain (checkout holds them again). Else empty.
  std::string warning;
};

struct CartView {
  Cart cart;
  std::vector<CartLineView> lines;
  Totals totals;
  std::optional<int64_t> hold_expires_ms;  // earliest expiry of the cart's live holds
  std::vector<inventory::Hold> holds;
};

// A new open cart; `token_hash` is the hash of the guest token returned to the client once.
Cart CreateCart(OrderContext& ctx, std::optional<int64_t> customer_id,
                const std::string& token_hash);
// Adds units of a SKU and holds them. kNotFound (SKU), kInvalidArgument (quantity),
// kTooManyLines, kInsufficientStock, kLimitExceeded (sale event), kCartClosed.
Status AddItem(OrderContext& ctx, int64_t cart_id, const std::string& sku, int64_t quantity);
// The same on a cart the caller loaded in this transaction (one read less); keeps `cart` up to
// date.
Status AddItem(OrderContext& ctx, Cart& cart, const std::string& sku, int64_t quantity);
// The cart with prices, held quantities and totals.
Result<CartView> ViewCart(OrderContext& ctx, const Cart& cart);
// Sets a line's quantity (0 removes it) and its holds to match; keeps `cart` up to date.
Status SetItemQuantity(OrderContext& ctx, Cart& cart, const std::string& sku, int64_t quantity);
// Chooses delivery or pick-up; moves the cart's holds to locations that can serve the choice.
Status SetFulfillment(OrderContext& ctx, int64_t cart_id, const Fulfillment& fulfillment);
Status SetFulfillment(OrderContext& ctx, Cart& cart, const Fulfillment& fulfillment);

// What only an order's owner may know, made before the write and off the writer thread, as a
// cart's token is: the token a guest reads the order with (the order keeps only its hash) and
// the code of the order's public tracking page.
struct OrderSecrets {
  std::string access_token;
  std::string access_token_hash;
  std::string tracking_code;
};
OrderSecrets NewOrderSecrets(int64_t now_ms);

struct CheckoutRequest {
  OrderSecrets secrets;  // required: NewOrderSecrets
  std::string email;
  std::string name;
  std::string phone;
  PaymentMethod payment_method = PaymentMethod::kCashOnDelivery;
  bool newsletter_opt_in = false;
  std::optional<Address> address;  // overrides the cart's delivery address
  std::optional<int64_t> customer_id;
};

// Confirms the order: holds become allocations, totals are computed here, the cart is closed.
// kInsufficientStock / kHoldExpired when units are no longer held and cannot be held again,
// kLimitExceeded past a sale event's per-customer limit, kInvalidArgument for a missing e-mail or
// address, kCartClosed.
Result<Order> Checkout(OrderContext& ctx, int64_t cart_id, const CheckoutRequest& request);
Result<Order> Checkout(OrderContext& ctx, Cart cart, const CheckoutRequest& request);

struct TransitionRequest {
  OrderStatus to = OrderStatus::kProcessing;
  std::string note;         // internal
  std::string public_note;  // for the customer and the public tracking page
  std::string carrier;
  std::string tracking_number;
};

// Moves an order; shipping (or a pick-up hand-over) records the sale in the ledger, cancellation
// (or a refund before shipping) releases the allocations. kNotFound, kInvalidTransition, kConflict (moved concurrently).
Result<Order> TransitionOrder(OrderContext& ctx, int64_t order_id, const TransitionRequest& req);

// Shipping price for a fulfilment choice and subtotal, in the subtotal's currency.
Money ShippingFor(const Fulfillment& fulfillment, const Money& subtotal);
// Known delivery service levels.
bool IsKnownService(const std::string& service);

}  // namespace tandem::orders
