// Carts and orders: their data, the order state machine and the OrderStore seam.
//
// An order moves only along the edges of Transition(); every move is a timeline entry.
// Types are values; OrderStore is used inside one transaction by one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/base/money.h"
#include "tandem/base/result.h"

namespace tandem::orders {

enum class OrderStatus {
  kPendingPayment,
  kPaid,
  kProcessing,
  kReady,
  kShipped,
  kDelivered,
  kCompleted,
  kCancelled,
  kRefunded,
};
std::string_view StatusName(OrderStatus status);
std::optional<OrderStatus> ParseStatus(std::string_view name);

enum class FulfillmentMethod { kDelivery, kPickup };
std::string_view FulfillmentName(FulfillmentMethod method);
std::optional<FulfillmentMethod> ParseFulfillment(std::string_view name);

enum class PaymentMethod { kCashOnDelivery, kBankTransfer, kCard, kCashInStore };
std::string_view PaymentMethodName(PaymentMethod method);
std::optional<PaymentMethod> ParsePaymentMethod(std::string_view name);

// What besides the two states decides whether a move is allowed.
struct TransitionFacts {
  PaymentMethod payment = PaymentMethod::kCashOnDelivery;
  FulfillmentMethod fulfillment = FulfillmentMethod::kDelivery;
};

// The one state machine. Returns `to` when the move from `from` is allowed, else
// kInvalidTransition. Cash orders (on delivery, in store at the pick-up) go to processing unpaid;
// pick-up orders are handed over (ready → delivered) instead of shipped.
Result<OrderStatus> Transition(OrderStatus from, OrderStatus to, const TransitionFacts& facts);
// True when the order still holds allocated stock in this state.
bool HoldsAllocation(OrderStatus status);

struct Address {
  std::string name;
  std::string line1;
  std::string line2;
  std::string city;
  std::string postcode;
  std::string country;  // ISO 3166-1 alpha-2
  std::string phone;
};
// kInvalidArgument naming the missing field.
Status ValidateAddress(const Address& address);

struct Fulfillment {
  FulfillmentMethod method = FulfillmentMethod::kDelivery;
  std::optional<Address> address;       // delivery
  std::optional<int64_t> location_id;   // pick-up store
  std::string service = "standard";     // delivery service level
};

struct CartLine {
  std::string sku;
  int64_t quantity = 0;
};

struct Cart {
  int64_t id = 0;
  std::string token_hash;
  std::optional<int64_t> customer_id;
  bool open = true;
  Fulfillment fulfillment;
  std::vector<CartLine> lines;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

struct OrderLine {
  int64_t id = 0;
  std::string sku;
  int64_t product_id = 0;
  std::string name;
  std::string options;  // "colour: navy, size: M"
  std::string image_url;
  Money unit_price;
  int64_t quantity = 0;
  Money line_total;
  int64_t unfulfillable = 0;  // units no location can serve after a stock conflict
};

struct TimelineEntry {
  int64_t at_ms = 0;
  std::string actor;  // "customer", "guest", "staff:<email>", "system"
  std::string from;   // empty for the first entry
  std::string to;
  std::string note;         // internal: staff and the system's own notes, never shown publicly
  std::string public_note;  // what the customer and the public tracking page may read
};

struct Totals {
  Money subtotal;
  Money discount;
  Money shipping;
  Money total;  // subtotal − discount + shipping, exactly
};

struct Order {
  int64_t id = 0;
  std::string number;         // TD-2026-000123
  std::string tracking_code;  // unguessable, for the public tracking page
  std::string access_token_hash;
  std::string access_token;   // only set on the order returned by Checkout; the order keeps the hash
  std::optional<int64_t> customer_id;
  std::string channel = "online";
  std::string email;
  std::string name;
  std::string phone;
  OrderStatus status = OrderStatus::kPendingPayment;
  PaymentMethod payment_method = PaymentMethod::kCashOnDelivery;
  Fulfillment fulfillment;
  std::vector<OrderLine> lines;
  Totals totals;
  bool newsletter_opt_in = false;
  std::string carrier;
  std::string tracking_number;
  int64_t cart_id = 0;
  std::vector<int64_t> related_order_ids;
  std::vector<TimelineEntry> timeline;
  int64_t created_ms = 0;
  int64_t updated_ms = 0;
};

struct OrderFilter {
  std::optional<std::string> channel;
  std::optional<OrderStatus> status;
  std::optional<int64_t> customer_id;
  std::string text;          // matches number, e-mail or name
  int64_t before_id = 0;     // paging: orders with a smaller id; 0 = from the newest
  int limit = 20;
};


class OrderStore {
 public:
  virtual ~OrderStore() = default;

  virtual int64_t InsertCart(const Cart& cart) = 0;
  // A cart with its lines while it is open; a checked-out cart comes without them.
  virtual std::optional<Cart> FindCart(int64_t id) = 0;
  virtual void SaveCartFulfillment(int64_t cart_id, const Fulfillment& f, int64_t now_ms) = 0;
  // Sets a line's quantity; 0 removes it.
  virtual void SetCartLine(int64_t cart_id, const std::string& sku, int64_t quantity,
                           int64_t now_ms) = 0;
  // Open carts that have a line of `sku`, oldest first, at most `limit`.
  virtual std::vector<int64_t> OpenCartsWithSku(const std::string& sku, int limit) = 0;
  // Marks the cart checked out; from then on it is found without lines. The order keeps the
  // fulfilment the checkout chose.
  virtual void CloseCart(int64_t cart_id, int64_t now_ms) = 0;

  // Next number in the order sequence of `year`: 1, 2, 3 …
  virtual int64_t NextOrderSequence(int year) = 0;
  // Inserts the order, its lines (setting their ids) and its timeline.
  virtual int64_t InsertOrder(Order& order) = 0;
  virtual std::optional<Order> FindOrder(int64_t id) = 0;
  virtual std::optional<Order> FindOrderByTrackingCode(const std::string& code) = 0;
  // Sets status from `from` to `to`; false (nothing changed) when the order is no longer in `from`.
  virtual bool UpdateStatus(int64_t order_id, OrderStatus from, OrderStatus to,
                            const std::string& carrier, const std::string& tracking_number,
                            int64_t now_ms) = 0;
  virtual void AppendTimeline(int64_t order_id, const TimelineEntry& entry) = 0;
  virtual std::vector<Order> ListOrders(const OrderFilter& filter) = 0;
  // The newest order of this customer (or e-mail, for guests) placed at or after `since_ms`.
  virtual std::optional<int64_t> RecentOrderOf(std::optional<int64_t> customer_id,
                                               const std::string& email, int64_t since_ms) = 0;
  virtual void LinkOrders(int64_t a, int64_t b) = 0;
  // Marks `quantity` more units of an order line as unfulfillable.
  virtual void AddUnfulfillable(int64_t line_id, int64_t quantity) = 0;
  // Minor units of the order's verified payments not given back (SPEC I5: paid means they cover
  // the total; the payments module records them).
  virtual int64_t VerifiedPaymentAmount(int64_t order_id) = 0;
};

}  // namespace tandem::orders
