#include "tandem/orders/service.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "tandem/base/clock.h"
#include "tandem/base/crypto.h"
#include "tandem/base/limits.h"
#include "tandem/inventory/sourcing.h"

namespace tandem::orders {
namespace {

// The currency of an empty cart's zero totals.
constexpr const char* kShopCurrencyDefault = "MYR";
constexpr int64_t kStandardShippingMinor = 800;
constexpr int64_t kExpressShippingMinor = 1500;
constexpr int64_t kFreeStandardShippingFromMinor = 15000;

inventory::Eligibility EligibilityOf(const Fulfillment& f) {
  inventory::Eligibility e;
  if (f.method == FulfillmentMethod::kPickup) e.only_location = f.location_id;
  if (f.method == FulfillmentMethod::kDelivery && f.address) {
    e.destination = inventory::PostcodeCoordinates(f.address->country, f.address->postcode);
  }
  return e;
}

// For the placement's timeline entry: where each line's units come from, in a clerk's words
// ("2 x SKU from DC Shah Alam, 12 km, 40 of 200 today"). Empty when there was no choice to
// explain: one location, no distance and no capacity (the flash sale's case).
std::string SourcingNote(OrderContext& ctx, const std::vector<inventory::Hold>& holds,
                         const Fulfillment& f) {
  std::optional<inventory::LatLon> destination = EligibilityOf(f).destination;
  std::vector<inventory::Location> locations;
  bool explained = false;
  for (const inventory::Hold& h : holds) {
    std::optional<inventory::Location> loc = ctx.inventory.FindLocation(h.location_id);
    if (!loc) return "";
    explained = explained || loc->daily_capacity > 0 || h.location_id != holds[0].location_id ||
                (destination && (loc->latitude != 0 || loc->longitude != 0));
    locations.push_back(std::move(*loc));
  }
  if (!explained) return "";
  std::string note;
  for (size_t i = 0; i < holds.size(); ++i) {
    const inventory::Hold& h = holds[i];
    const inventory::Location* loc = &locations[i];
    note += "; " + std::to_string(h.quantity) + " x " + h.sku + " from " + loc->name;
    if (destination && (loc->latitude != 0 || loc->longitude != 0)) {
      note += ", " + inventory::DistanceText(
                         inventory::DistanceKm({loc->latitude, loc->longitude}, *destination));
    }
    if (loc->daily_capacity > 0) {
      note += ", " + std::to_string(ctx.inventory.BacklogAt(loc->id)) + " of " +
              std::to_string(loc->daily_capacity) + " today";
    }
  }
  return note;
}

Status CartClosed() { return Status(Code::kCartClosed, "this cart has been checked out"); }

Result<Cart> LoadOpenCart(OrderContext& ctx, int64_t cart_id) {
  std::optional<Cart> cart = ctx.orders.FindCart(cart_id);
  if (!cart) return Status(Code::kNotFound, "no cart " + std::to_string(cart_id));
  if (!cart->open) return CartClosed();
  return std::move(*cart);
}

std::vector<int64_t> LocationsOf(const std::vector<inventory::Hold>& holds) {
  std::vector<int64_t> ids;
  for (const auto& h : holds) {
    if (std::find(ids.begin(), ids.end(), h.location_id) == ids.end()) ids.push_back(h.location_id);
  }
  return ids;
}

// Makes the live holds of one cart line cover exactly `quantity` units, preferring the
// locations the cart already holds stock at (fewest shipments). Leaves the cart's holds, as
// HoldsOfCart would now read them, in ctx.memo.
Status SyncLineHolds(OrderContext& ctx, inventory::Allocator& allocator, const Cart& cart,
                     const std::string& sku, int64_t quantity) {
  ctx.memo.holds.reset();
  std::vector<inventory::Hold> all = ctx.inventory.HoldsOfCart(cart.id);
  std::vector<inventory::Hold> kept;
  int64_t held = 0;
  for (const auto& h : all) {
    if (h.sku == sku && h.expires_ms <= ctx.now_ms) {
      allocator.ReleaseHold(h);
      continue;
    }
    if (h.sku == sku) held += h.quantity;
    kept.push_back(h);
  }
  if (held > quantity) {
    for (const auto& h : kept) {
      if (h.sku == sku) allocator.ReleaseHold(h);
    }
    std::erase_if(kept, [&](const inventory::Hold& h) { return h.sku == sku; });
    held = 0;
  }
  if (held < quantity) {
    auto placed = allocator.PlaceHolds(cart.id, sku, quantity - held,
                                       EligibilityOf(cart.fulfillment),
                                       ctx.now_ms + ctx.hold_ttl_ms, LocationsOf(all));
    if (!placed.ok()) return placed.status();
    // New holds have the highest ids: the list stays in id order.
    kept.insert(kept.end(), placed->begin(), placed->end());
  }
  ctx.memo.holds_cart_id = cart.id;
  ctx.memo.holds = std::move(kept);
  return Status::Ok();
}

Money ZeroLike(const Money& m) { return Money{0, m.currency}; }

std::string OptionsText(const std::vector<catalog::Option>& options) {
  std::string out;
  for (const auto& o : options) {
    if (!out.empty()) out += ", ";
    out += o.name + ": " + o.value;
  }
  return out;
}

// Sets a line of an open cart loaded in this transaction, and its holds; keeps `cart` up to date.
Status SetLine(OrderContext& ctx, Cart& cart, const std::string& sku, int64_t quantity) {
  if (quantity < 0 || quantity > kLineQuantityMax) {
    return Status(Code::kInvalidArgument,
                  "quantity must be between 0 and " + std::to_string(kLineQuantityMax));
  }
  const int64_t cart_id = cart.id;
  bool present = std::any_of(cart.lines.begin(), cart.lines.end(),
                             [&](const CartLine& l) { return l.sku == sku; });
  if (!present) {
    if (quantity == 0) return Status(Code::kNotFound, "no line " + sku + " in this cart");
    std::optional<catalog::VariantWithProduct> found = ctx.catalog.FindVariantWithProduct(sku);
    if (!found || !found->Sold()) return Status(Code::kNotFound, "no product with sku " + sku);
    if (cart.lines.size() >= static_cast<size_t>(kCartLinesMax)) {
      return Status(Code::kTooManyLines,
                    "a cart holds at most " + std::to_string(kCartLinesMax) + " lines");
    }
    // One order is paid in one currency (I6).
    if (!cart.lines.empty()) {
      const std::string& currency = found->variant.price.currency;
      std::optional<catalog::VariantWithProduct> first =
          ctx.catalog.FindVariantWithProduct(cart.lines.front().sku);
      if (first && first->variant.price.currency != currency) {
        return Status(Code::kInvalidArgument, "cannot add " + currency + " to a cart in " +
                                                  first->variant.price.currency);
      }
    }
  }
  inventory::Allocator allocator(ctx.inventory, ctx.now_ms);
  if (quantity > 0) {
    if (const std::optional<inventory::SaleEventSku>& cap = allocator.ActiveEvent(sku)) {
      std::optional<inventory::SaleEvent> event = ctx.inventory.FindSaleEvent(cap->event_id);
      TANDEM_CHECK(event.has_value());
      if (quantity > event->per_customer_limit) {
        return Status(Code::kLimitExceeded, event->name + " allows at most " +
                                                std::to_string(event->per_customer_limit) +
                                                " of " + sku + " per customer");
      }
    }
  }
  TANDEM_RETURN_IF_ERROR(SyncLineHolds(ctx, allocator, cart, sku, quantity));
  ctx.orders.SetCartLine(cart_id, sku, quantity, ctx.now_ms);
  // Every live hold of the cart now runs until the new expiry (the ones just placed already do).
  const int64_t expires_ms = ctx.now_ms + ctx.hold_ttl_ms;
  auto outdated = [&](const inventory::Hold& h) {
    return h.expires_ms > ctx.now_ms && h.expires_ms != expires_ms;
  };
  if (std::any_of(ctx.memo.holds->begin(), ctx.memo.holds->end(), outdated)) {
    ctx.inventory.ExtendHolds(cart_id, ctx.now_ms, expires_ms);
    for (auto& h : *ctx.memo.holds) {
      if (outdated(h)) h.expires_ms = expires_ms;
    }
  }
  auto line = std::find_if(cart.lines.begin(), cart.lines.end(),
                           [&](const CartLine& l) { return l.sku == sku; });
  if (quantity == 0) {
    if (line != cart.lines.end()) cart.lines.erase(line);
  } else if (line != cart.lines.end()) {
    line->quantity = quantity;
  } else {
    cart.lines.push_back(CartLine{sku, quantity});
  }
  cart.updated_ms = ctx.now_ms;
  return Status::Ok();
}

}  // namespace

bool IsKnownService(const std::string& service) {
  return service == "standard" || service == "express";
}

Money ShippingFor(const Fulfillment& f, const Money& subtotal) {
  if (f.method == FulfillmentMethod::kPickup || subtotal.amount == 0) return ZeroLike(subtotal);
  if (f.service == "express") return Money{kExpressShippingMinor, subtotal.currency};
  if (subtotal.amount >= kFreeStandardShippingFromMinor) return ZeroLike(subtotal);
  return Money{kStandardShippingMinor, subtotal.currency};
}

Cart CreateCart(OrderContext& ctx, std::optional<int64_t> customer_id,
                const std::string& token_hash) {
  Cart cart;
  cart.token_hash = token_hash;
  cart.customer_id = customer_id;
  cart.created_ms = cart.updated_ms = ctx.now_ms;
  cart.id = ctx.orders.InsertCart(cart);
  ctx.memo.holds_cart_id = cart.id;
  ctx.memo.holds.emplace();
  return cart;
}

Result<CartView> ViewCart(OrderContext& ctx, const Cart& cart) {
  CartView view;
  if (ctx.memo.holds && ctx.memo.holds_cart_id == cart.id) {
    view.holds = std::move(*ctx.memo.holds);
    ctx.memo.holds.reset();
  } else {
    view.holds = ctx.inventory.HoldsOfCart(cart.id);
  }
  Money subtotal{0, kShopCurrencyDefault};
  bool first = true;
  inventory::Allocator allocator(ctx.inventory, ctx.now_ms);
  for (const CartLine& line : cart.lines) {
    std::optional<catalog::VariantWithProduct> found =
        ctx.catalog.FindVariantWithProduct(line.sku);
    TANDEM_CHECK(found.has_value());
    CartLineView lv{line, found->variant, found->product_name, 0, {}, found->Sold()};
    for (const auto& h : view.holds) {
      if (h.sku == line.sku && h.expires_ms > ctx.now_ms) lv.held += h.quantity;
    }
    if (lv.held < line.quantity && cart.open) {
      int64_t online = allocator.AvailabilityOf(line.sku).online;
      // During a sale event only what is left of the ring-fenced quantity can be held again.
      if (auto cap = ctx.inventory.ActiveEventSku(line.sku, ctx.now_ms)) {
        online = std::min(online, cap->ring_fenced - cap->committed);
      }
      lv.warning = online >= line.quantity - lv.held ? "not_held" : "sold_out";
    }
    Result<Money> total = MultiplyMoney(found->variant.price, line.quantity);
    if (!total.ok()) return total.status();
    lv.line_total = total.value();
    if (first) {
      subtotal = ZeroLike(lv.line_total);
      first = false;
    }
    Result<Money> sum = AddMoney(subtotal, lv.line_total);
    if (!sum.ok()) return sum.status();
    subtotal = sum.value();
    view.lines.push_back(std::move(lv));
  }
  for (const auto& h : view.holds) {
    if (h.expires_ms > ctx.now_ms && (!view.hold_expires_ms || h.expires_ms < *view.hold_expires_ms)) {
      view.hold_expires_ms = h.expires_ms;
    }
  }
  view.totals.subtotal = subtotal;
  view.totals.discount = ZeroLike(subtotal);
  view.totals.shipping = ShippingFor(cart.fulfillment, subtotal);
  Result<Money> total = AddMoney(subtotal, view.totals.shipping);
  if (!total.ok()) return total.status();
  view.totals.total = total.value();
  view.cart = cart;
  return view;
}

Status AddItem(OrderContext& ctx, int64_t cart_id, const std::string& sku, int64_t quantity) {
  Result<Cart> cart = LoadOpenCart(ctx, cart_id);
  if (!cart.ok()) return cart.status();
  return AddItem(ctx, *cart, sku, quantity);
}

Status AddItem(OrderContext& ctx, Cart& cart, const std::string& sku, int64_t quantity) {
  if (quantity < 1 || quantity > kLineQuantityMax) {
    return Status(Code::kInvalidArgument,
                  "quantity must be between 1 and " + std::to_string(kLineQuantityMax));
  }
  if (!cart.open) return CartClosed();
  int64_t current = 0;
  for (const CartLine& l : cart.lines) {
    if (l.sku == sku) current = l.quantity;
  }
  return SetLine(ctx, cart, sku, current + quantity);
}

Status SetItemQuantity(OrderContext& ctx, Cart& cart, const std::string& sku, int64_t quantity) {
  if (!cart.open) return CartClosed();
  return SetLine(ctx, cart, sku, quantity);
}

Status SetFulfillment(OrderContext& ctx, int64_t cart_id, const Fulfillment& f) {
  Result<Cart> cart = LoadOpenCart(ctx, cart_id);
  if (!cart.ok()) return cart.status();
  return SetFulfillment(ctx, *cart, f);
}

Status SetFulfillment(OrderContext& ctx, Cart& cart, const Fulfillment& f) {
  if (!cart.open) return CartClosed();
  if (f.method == FulfillmentMethod::kPickup) {
    if (!f.location_id) return Status(Code::kInvalidArgument, "location_id is required for pickup");
    std::optional<inventory::Location> loc = ctx.inventory.FindLocation(*f.location_id);
    if (!loc) return Status(Code::kNotFound, "no location " + std::to_string(*f.location_id));
    if (!loc->pickup) return Status(Code::kInvalidArgument, loc->name + " does not offer pick-up");
  } else {
    if (!IsKnownService(f.service)) {
      return Status(Code::kInvalidArgument, "service must be standard or express");
    }
    if (f.address) TANDEM_RETURN_IF_ERROR(ValidateAddress(*f.address));
  }
  // Re-hold every line under the new choice; on failure the transaction is rolled back and the
  // old holds stay.
  inventory::Allocator allocator(ctx.inventory, ctx.now_ms);
  for (const auto& h : ctx.inventory.HoldsOfCart(cart.id)) allocator.ReleaseHold(h);
  ctx.memo.holds.reset();
  Cart updated = cart;
  updated.fulfillment = f;
  for (const CartLine& line : updated.lines) {
    TANDEM_RETURN_IF_ERROR(SyncLineHolds(ctx, allocator, updated, line.sku, line.quantity));
  }
  ctx.orders.SaveCartFulfillment(cart.id, f, ctx.now_ms);
  updated.updated_ms = ctx.now_ms;
  cart = std::move(updated);
  return Status::Ok();
}

OrderSecrets NewOrderSecrets(int64_t now_ms) {
  OrderSecrets s;
  s.access_token = RandomToken();
  s.access_token_hash = HashToken(s.access_token);
  s.tracking_code = TimeOrderedCode(now_ms, 12);
  return s;
}

Result<Order> Checkout(OrderContext& ctx, int64_t cart_id, const CheckoutRequest& req) {
  Result<Cart> loaded = LoadOpenCart(ctx, cart_id);
  if (!loaded.ok()) return loaded.status();
  return Checkout(ctx, std::move(loaded.value()), req);
}

Result<Order> Checkout(OrderContext& ctx, Cart cart, const CheckoutRequest& req) {
  if (req.secrets.access_token.empty() || req.secrets.tracking_code.empty()) {
    return Status(Code::kInternal, "a checkout needs the order's secrets (NewOrderSecrets)");
  }
  if (!cart.open) return CartClosed();
  if (cart.lines.empty()) return Status(Code::kInvalidArgument, "the cart is empty");
  Fulfillment f = cart.fulfillment;
  bool pickup = f.method == FulfillmentMethod::kPickup;
  if (req.payment_method == PaymentMethod::kCashInStore && !pickup) {
    return Status(Code::kInvalidArgument, "cash in store is for pick-up orders");
  }
  if (req.address) {
    if (f.method != FulfillmentMethod::kDelivery) {
      return Status(Code::kInvalidArgument, "an address is only for delivery");
    }
    TANDEM_RETURN_IF_ERROR(ValidateAddress(*req.address));
    f.address = req.address;
  }
  if (f.method == FulfillmentMethod::kDelivery && !f.address) {
    return Status(Code::kInvalidArgument, "address is required for delivery");
  }
  if (req.name.size() > kTextShortBytesMax || req.phone.size() > 40) {
    return Status(Code::kInvalidArgument, "name or phone is too long");
  }

  inventory::Allocator allocator(ctx.inventory, ctx.now_ms);
  for (const CartLine& line : cart.lines) {
    // Every line was held when it was added, so a line that cannot be held now lost its hold.
    Status synced = SyncLineHolds(ctx, allocator, cart, line.sku, line.quantity);
    if (synced.code() == Code::kInsufficientStock) {
      return Status(Code::kHoldExpired,
                    "the hold on " + line.sku + " expired and the units are gone");
    }
    TANDEM_RETURN_IF_ERROR(synced);
  }
  // Saved when the cart is closed below.
  cart.fulfillment = f;
  // The holds are settled now: the view's list is the cart's until they become allocations.
  Result<CartView> view = ViewCart(ctx, cart);
  if (!view.ok()) return view.status();

  for (const CartLineView& lv : view->lines) {
    if (!lv.sold) {
      return Status(Code::kConflict, lv.line.sku + " is no longer sold; remove it from the cart");
    }
  }
  Order order;
  order.customer_id = req.customer_id;
  order.email = req.email;
  order.name = req.name;
  order.phone = req.phone;
  order.payment_method = req.payment_method;
  order.fulfillment = f;
  order.newsletter_opt_in = req.newsletter_opt_in;
  order.totals = view->totals;
  order.cart_id = cart.id;
  order.created_ms = order.updated_ms = ctx.now_ms;
  for (const CartLineView& lv : view->lines) {
    OrderLine ol;
    ol.sku = lv.line.sku;
    ol.product_id = lv.variant.product_id;
    ol.name = lv.product_name;
    ol.options = OptionsText(lv.variant.options);
    ol.image_url = lv.variant.image_url;
    ol.unit_price = lv.variant.price;
    ol.quantity = lv.line.quantity;
    ol.line_total = lv.line_total;
    order.lines.push_back(std::move(ol));
  }
  char number[32];
  int year = YearOf(ctx.now_ms);
  std::snprintf(number, sizeof number, "TD-%04d-%06lld", year,
                static_cast<long long>(ctx.orders.NextOrderSequence(year)));
  order.number = number;
  order.tracking_code = req.secrets.tracking_code;
  order.access_token = req.secrets.access_token;
  order.access_token_hash = req.secrets.access_token_hash;
  order.timeline.push_back({ctx.now_ms, ctx.actor, "", std::string(StatusName(order.status)),
                            "order placed" + SourcingNote(ctx, view->holds, f)});
  std::optional<int64_t> related = ctx.orders.RecentOrderOf(
      req.customer_id, req.email, ctx.now_ms - kRelatedOrderWindowSeconds * 1000);

  // Per-customer limits of sale events count every order of the customer (or e-mail) in the event.
  std::string customer_key =
      req.customer_id ? "customer:" + std::to_string(*req.customer_id) : "email:" + req.email;
  std::map<std::pair<int64_t, std::string>, int64_t> event_units;
  for (const auto& hold : view->holds) {
    if (hold.event_id) event_units[{*hold.event_id, hold.sku}] += hold.quantity;
  }
  for (const auto& [key, units] : event_units) {
    std::optional<inventory::SaleEvent> event = ctx.inventory.FindSaleEvent(key.first);
    TANDEM_CHECK(event.has_value());
    if (!ctx.inventory.TryAddPurchase(key.first, customer_key, key.second, units,
                                      event->per_customer_limit)) {
      const int64_t before = ctx.inventory.Purchased(key.first, customer_key, key.second);
      return Status(Code::kLimitExceeded,
                    event->name + " allows at most " + std::to_string(event->per_customer_limit) +
                        " of " + key.second + " per customer; you bought " +
                        std::to_string(before) + " already");
    }
  }

  order.id = ctx.orders.InsertOrder(order);
  for (const auto& hold : view->holds) {
    auto line = std::find_if(order.lines.begin(), order.lines.end(),
                             [&](const OrderLine& l) { return l.sku == hold.sku; });
    TANDEM_CHECK(line != order.lines.end());
    allocator.AllocateFromHold(hold, order.id, line->id);
  }
  ctx.orders.CloseCart(cart.id, ctx.now_ms);
  if (related) {
    ctx.orders.LinkOrders(order.id, *related);
    order.related_order_ids.push_back(*related);
  }
  return order;
}

Result<Order> TransitionOrder(OrderContext& ctx, int64_t order_id, const TransitionRequest& req) {
  std::optional<Order> order = ctx.orders.FindOrder(order_id);
  if (!order) return Status(Code::kNotFound, "no order " + std::to_string(order_id));
  TransitionFacts facts{order->payment_method, order->fulfillment.method};
  Result<OrderStatus> next = Transition(order->status, req.to, facts);
  if (!next.ok()) return next.status();
  if (req.note.size() > kTextLongBytesMax || req.carrier.size() > kTextShortBytesMax ||
      req.tracking_number.size() > kTextShortBytesMax) {
    return Status(Code::kInvalidArgument, "note, carrier or tracking_number is too long");
  }

  inventory::Allocator allocator(ctx.inventory, ctx.now_ms);
  // I5: an order becomes paid only when verified payments cover its total (payments module).
  if (req.to == OrderStatus::kPaid &&
      ctx.orders.VerifiedPaymentAmount(order->id) < order->totals.total.amount) {
    return Status(Code::kInvalidTransition,
                  "an order is paid once verified payments cover its total; verify its payment");
  }
  if (HoldsAllocation(order->status) && !HoldsAllocation(req.to)) {
    for (const auto& a : ctx.inventory.AllocationsOfOrder(order->id)) {
      if (!a.open) continue;
      if (req.to == OrderStatus::kCancelled || req.to == OrderStatus::kRefunded) {
        allocator.ReleaseAllocation(a);
      } else {
        allocator.ShipAllocation(a, order->number);
      }
    }
  }
  if (!ctx.orders.UpdateStatus(order->id, order->status, req.to, req.carrier,
                               req.tracking_number, ctx.now_ms)) {
    return Status(Code::kConflict, "the order changed meanwhile; reload and retry");
  }
  ctx.orders.AppendTimeline(order->id, {ctx.now_ms, ctx.actor,
                                        std::string(StatusName(order->status)),
                                        std::string(StatusName(req.to)), req.note,
                                        req.public_note});
  std::optional<Order> updated = ctx.orders.FindOrder(order_id);
  TANDEM_CHECK(updated.has_value());
  return std::move(*updated);
}

}  // namespace tandem::orders
