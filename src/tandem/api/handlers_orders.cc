#include <algorithm>

#include "tandem/api/errors.h"
#include "tandem/api/handlers.h"
#include "tandem/base/crypto.h"
#include "tandem/base/limits.h"

namespace tandem::api {
namespace {

using customers::Role;

// ---- carts ----

// The answer about a cart loaded in this transaction, rendered later. `token`: a new cart's
// token, shown once.
Result<Render> CartRender(orders::OrderContext& octx, const orders::Cart& cart,
                          std::string token = "") {
  Result<orders::CartView> view = orders::ViewCart(octx, cart);
  if (!view.ok()) return view.status();
  return Render([view = std::move(view.value()), token = std::move(token)] {
    return CartText(view, token);
  });
}

// The answer about an order, rendered later (after the commit).
Render OrderRender(orders::Order order, bool for_staff) {
  return Render([order = std::move(order), for_staff] { return OrderText(order, for_staff); });
}

// Everything a cart route does first: who calls, which cart, the JSON body.
struct CartCall {
  Principal who;
  int64_t cart_id = 0;
  Json body;
  std::string token_hash;  // of the X-Cart-Token presented; empty without a usable one
  std::string scope;  // for Idempotency-Key: the caller and the cart token they present
};

Result<CartCall> StartCartCall(ApiContext& ctx, Request& req, bool with_body) {
  CartCall call;
  Result<Principal> who = Identify(ctx, req);
  if (!who.ok()) return who.status();
  call.who = std::move(who.value());
  Result<int64_t> id = ParseId(req.params["id"]);
  if (!id.ok()) return id.status();
  call.cart_id = *id;
  const std::string& token = req.Header("x-cart-token");
  std::string token_hash = HashToken(token);
  call.scope = call.who.actor() + ":" + token_hash;
  if (!token.empty() && token.size() <= 200) call.token_hash = std::move(token_hash);
  if (with_body) {
    Result<Json> body = ParseBody(req);
    if (!body.ok()) return body.status();
    call.body = std::move(body.value());
  }
  return call;
}

// The cart if the caller may touch it: its customer, or whoever holds its X-Cart-Token.
// Anyone else learns nothing: kNotFound.
Result<orders::Cart> AuthorizeCart(storage::Tx& tx, const CartCall& call) {
  std::optional<orders::Cart> cart = tx.orders().FindCart(call.cart_id);
  if (cart) {
    const Principal& who = call.who;
    if (cart->customer_id && who.customer() && who.account->id == *cart->customer_id) {
      return std::move(*cart);
    }
    if (!call.token_hash.empty() && call.token_hash == cart->token_hash) return std::move(*cart);
  }
  return Status(Code::kNotFound, "no cart " + std::to_string(call.cart_id));
}

// The flash-sale path (create, add, checkout) does not wait for its write: each answers once the
// write is durable (WriteJsonAsync), so a few I/O threads keep thousands of carts in flight (a
// signed-in shopper's session is still looked up on the I/O thread). The write functions run
// later on the writer thread and own what they use; the writer does only the transaction.
void CreateCart(ApiContext& ctx, Request& req, Respond respond) {
  Result<Principal> who = Identify(ctx, req);
  if (!who.ok()) return respond(Problem(who.status()));
  std::optional<int64_t> customer_id;
  if (who->customer()) customer_id = who->account->id;
  std::string token = RandomToken();
  std::string token_hash = HashToken(token);
  // A guest has no credential yet to scope a key with, and a spare empty cart harms nobody.
  std::string scope = who->anonymous() ? "" : who->actor();
  WriteJsonAsync(
      ctx, req, scope, 201,
      [&ctx, actor = who->actor(), customer_id, token,
       token_hash](storage::Tx& tx) -> Result<Render> {
        orders::OrderContext octx = MakeOrderContext(ctx, tx, actor);
        orders::Cart cart = orders::CreateCart(octx, customer_id, token_hash);
        return CartRender(octx, cart, token);
      },
      std::move(respond));
}

Response GetCart(ApiContext& ctx, Request& req) {
  Result<CartCall> call = StartCartCall(ctx, req, false);
  if (!call.ok()) return Problem(call.status());
  return ReadText(ctx, [&](storage::Tx& tx) -> Result<std::string> {
    Result<orders::Cart> cart = AuthorizeCart(tx, *call);
    if (!cart.ok()) return cart.status();
    orders::OrderContext octx = MakeOrderContext(ctx, tx, call->who.actor());
    Result<Render> render = CartRender(octx, *cart);
    if (!render.ok()) return render.status();
    return (*render)();
  });
}

void AddCartItem(ApiContext& ctx, Request& req, Respond respond) {
  Result<CartCall> call = StartCartCall(ctx, req, true);
  if (!call.ok()) return respond(Problem(call.status()));
  Fields f(call->body);
  std::string sku = f.Str("sku", 64);
  int64_t quantity = f.Int("quantity", 1, kLineQuantityMax);
  if (!f.ok()) return respond(Problem(f.status()));
  call->body = nullptr;  // read; not carried to (and freed on) the writer thread
  std::string scope = call->scope;
  WriteJsonAsync(
      ctx, req, scope, 201,
      [&ctx, call = std::move(*call), sku, quantity](storage::Tx& tx) -> Result<Render> {
        Result<orders::Cart> cart = AuthorizeCart(tx, call);
        if (!cart.ok()) return cart.status();
        orders::OrderContext octx = MakeOrderContext(ctx, tx, call.who.actor());
        TANDEM_RETURN_IF_ERROR(orders::AddItem(octx, *cart, sku, quantity));
        return CartRender(octx, *cart);
      },
      std::move(respond));
}

Response SetCartItem(ApiContext& ctx, Request& req, bool remove) {
  Result<CartCall> call = StartCartCall(ctx, req, !remove);
  if (!call.ok()) return Problem(call.status());
  int64_t quantity = 0;
  if (!remove) {
    Fields f(call->body);
    quantity = f.Int("quantity", 0, kLineQuantityMax);
    if (!f.ok()) return Problem(f.status());
  }
  std::string sku = req.params["sku"];
  return WriteRendered(ctx, req, call->scope, 200, [&](storage::Tx& tx) -> Result<Render> {
    Result<orders::Cart> cart = AuthorizeCart(tx, *call);
    if (!cart.ok()) return cart.status();
    if (!cart->open) return Status(Code::kCartClosed, "this cart has been checked out");
    // PATCH and DELETE change a line; adding one is POST …/items.
    bool present = std::any_of(cart->lines.begin(), cart->lines.end(),
                               [&](const orders::CartLine& l) { return l.sku == sku; });
    if (!present) return Status(Code::kNotFound, "no line " + sku + " in this cart");
    orders::OrderContext octx = MakeOrderContext(ctx, tx, call->who.actor());
    TANDEM_RETURN_IF_ERROR(orders::SetItemQuantity(octx, *cart, sku, quantity));
    return CartRender(octx, *cart);
  });
}

Response PutFulfillment(ApiContext& ctx, Request& req) {
  Result<CartCall> call = StartCartCall(ctx, req, true);
  if (!call.ok()) return Problem(call.status());
  Fields f(call->body);
  std::string method = f.Str("method", 20);
  orders::Fulfillment fulfillment;
  fulfillment.location_id = f.OptInt("location_id", 1, INT64_MAX);
  fulfillment.service = f.OptStr("service", 40).value_or("standard");
  const Json* address = f.Object("address", false);
  if (!f.ok()) return Problem(f.status());
  auto parsed = orders::ParseFulfillment(method);
  if (!parsed) return Problem(Status(Code::kInvalidArgument, "method must be delivery or pickup"));
  fulfillment.method = *parsed;
  if (address != nullptr) {
    Result<orders::Address> a = ReadAddress(*address, "address.");
    if (!a.ok()) return Problem(a.status());
    fulfillment.address = *a;
  }
  if (fulfillment.method == orders::FulfillmentMethod::kDelivery) fulfillment.location_id.reset();
  return WriteRendered(ctx, req, call->scope, 200, [&](storage::Tx& tx) -> Result<Render> {
    Result<orders::Cart> cart = AuthorizeCart(tx, *call);
    if (!cart.ok()) return cart.status();
    orders::OrderContext octx = MakeOrderContext(ctx, tx, call->who.actor());
    TANDEM_RETURN_IF_ERROR(orders::SetFulfillment(octx, *cart, fulfillment));
    return CartRender(octx, *cart);
  });
}

void Checkout(ApiContext& ctx, Request& req, Respond respond) {
  Result<CartCall> call = StartCartCall(ctx, req, true);
  if (!call.ok()) return respond(Problem(call.status()));
  Fields f(call->body);
  orders::CheckoutRequest c;
  c.secrets = orders::NewOrderSecrets(ctx.clock.NowMs());
  c.email = f.OptStr("email", kTextShortBytesMax).value_or("");
  c.name = f.OptStr("name", kTextShortBytesMax).value_or("");
  c.phone = f.OptStr("phone", 40).value_or("");
  std::string payment = f.Str("payment_method", 40);
  c.newsletter_opt_in = f.Bool("newsletter_opt_in", false);
  const Json* address = f.Object("address", false);
  if (!f.ok()) return respond(Problem(f.status()));
  auto method = orders::ParsePaymentMethod(payment);
  if (!method) return respond(Problem(Status(Code::kInvalidArgument, "payment_method is not known")));
  c.payment_method = *method;
  if (address != nullptr) {
    Result<orders::Address> a = ReadAddress(*address, "address.");
    if (!a.ok()) return respond(Problem(a.status()));
    c.address = *a;
  }
  if (call->who.customer()) {
    c.customer_id = call->who.account->id;
    if (c.email.empty()) c.email = call->who.account->email;
    if (c.name.empty()) c.name = call->who.account->name;
  }
  c.email = customers::NormalizeEmail(c.email);
  if (c.email.empty()) return respond(Problem(Status(Code::kInvalidArgument, "email is required")));
  call->body = nullptr;  // read; not carried to (and freed on) the writer thread
  std::string scope = call->scope;
  WriteJsonAsync(
      ctx, req, scope, 201,
      [&ctx, call = std::move(*call), c = std::move(c)](storage::Tx& tx) -> Result<Render> {
        Result<orders::Cart> cart = AuthorizeCart(tx, call);
        if (!cart.ok()) return cart.status();
        orders::OrderContext octx = MakeOrderContext(ctx, tx, call.who.actor());
        Result<orders::Order> order = orders::Checkout(octx, std::move(cart.value()), c);
        if (!order.ok()) return order.status();
        return OrderRender(std::move(order.value()), false);
      },
      std::move(respond));
}

// ---- orders ----

enum class OrderAccess { kStaff, kOwner };

// Who may see an order: staff, its customer, or a guest with its access token (?token=).
Result<OrderAccess> AuthorizeOrder(const orders::Order& order, const Request& req,
                                   const Principal& who) {
  if (who.staff()) return OrderAccess::kStaff;
  if (who.customer() && order.customer_id && *order.customer_id == who.account->id) {
    return OrderAccess::kOwner;
  }
  const std::string& token = req.Query("token");
  if (!token.empty() && token.size() <= 200 && HashToken(token) == order.access_token_hash) {
    return OrderAccess::kOwner;
  }
  if (who.anonymous() && token.empty()) {
    return Status(Code::kUnauthorized, "log in or use the link from your confirmation");
  }
  return Status(Code::kNotFound, "no order " + std::to_string(order.id));
}

Response ListOrders(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  Result<Page> page = ParsePage(req);
  if (!page.ok()) return Problem(page.status());
  orders::OrderFilter filter;
  filter.limit = page->limit;
  if (!req.Query("channel").empty()) filter.channel = req.Query("channel");
  if (!req.Query("status").empty()) {
    filter.status = orders::ParseStatus(req.Query("status"));
    if (!filter.status) return Problem(Status(Code::kInvalidArgument, "status is not known"));
  }
  filter.text = req.Query("q");
  if (filter.text.size() > kSearchQueryBytesMax) {
    return Problem(Status(Code::kInvalidArgument, "q is longer than 200 bytes"));
  }
  filter.before_id = page->before_id;
  return ReadJson(ctx, [&](storage::Tx& tx) -> Result<Json> {
    return PageJson(tx.orders().ListOrders(filter), filter.limit,
                    [](const orders::Order& o) { return OrderJson(o, true); });
  });
}

Response GetOrder(ApiContext& ctx, Request& req) {
  Result<Principal> who = Identify(ctx, req);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> id = ParseId(req.params["id"]);
  if (!id.ok()) return Problem(id.status());
  return ReadText(ctx, [&](storage::Tx& tx) -> Result<std::string> {
    std::optional<orders::Order> order = tx.orders().FindOrder(*id);
    if (!order) {
      if (who->anonymous() && req.Query("token").empty()) {
        return Status(Code::kUnauthorized, "log in or use the link from your confirmation");
      }
      return Status(Code::kNotFound, "no order " + std::to_string(*id));
    }
    Result<OrderAccess> access = AuthorizeOrder(*order, req, *who);
    if (!access.ok()) return access.status();
    std::vector<inventory::Allocation> allocations = tx.inventory().AllocationsOfOrder(order->id);
    return OrderText(*order, *access == OrderAccess::kStaff, &allocations);
  });
}

Response PostTransition(ApiContext& ctx, Request& req) {
  Result<Principal> who = IdentifyWithRole(ctx, req, kAllStaff);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> id = ParseId(req.params["id"]);
  if (!id.ok()) return Problem(id.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  std::string to = f.Str("to", 40);
  orders::TransitionRequest t;
  t.note = f.OptStr("note", kTextLongBytesMax).value_or("");
  t.carrier = f.OptStr("carrier", kTextShortBytesMax).value_or("");
  t.tracking_number = f.OptStr("tracking_number", kTextShortBytesMax).value_or("");
  t.public_note = f.OptStr("customer_message", kTextLongBytesMax).value_or("");
  if (!f.ok()) return Problem(f.status());
  auto status = orders::ParseStatus(to);
  if (!status) return Problem(Status(Code::kInvalidArgument, "to is not a known status"));
  t.to = *status;
  if (who->account->role == Role::kClerk &&
      (t.to == orders::OrderStatus::kCancelled || t.to == orders::OrderStatus::kRefunded)) {
    return Problem(Status(Code::kForbidden, "your role may not cancel or refund orders"));
  }
  if (t.to == orders::OrderStatus::kRefunded) {
    return Problem(Status(Code::kInvalidTransition,
                          "a refund gives money back: POST /api/v1/orders/{id}/refunds"));
  }
  return WriteRendered(ctx, req, who->actor(), 200, [&](storage::Tx& tx) -> Result<Render> {
    // Packing is verified by scanning each unit; a shipment leaves with the carrier or at the
    // counter, never by a status change alone.
    bool leaves = t.to == orders::OrderStatus::kReady || t.to == orders::OrderStatus::kShipped;
    std::optional<orders::Order> before = tx.orders().FindOrder(*id);
    if (before && before->fulfillment.method == orders::FulfillmentMethod::kPickup &&
        t.to == orders::OrderStatus::kDelivered) {
      leaves = true;
    }
    if (leaves && !tx.fulfillment().ShipmentsOfOrder(*id).empty()) {
      return Status(Code::kInvalidTransition,
                    "its shipments are packed by scanning (POST /api/v1/shipments/{id}/scans), "
                    "then shipped (…/ship) or handed over (…/handover)");
    }
    orders::OrderContext octx = MakeOrderContext(ctx, tx, who->actor());
    Result<orders::Order> order = orders::TransitionOrder(octx, *id, t);
    if (!order.ok()) return order.status();
    TANDEM_RETURN_IF_ERROR(AfterStaffTransition(ctx, tx, who->actor(), *order));
    return OrderRender(std::move(order.value()), true);
  });
}

Response PostCancel(ApiContext& ctx, Request& req) {
  Result<Principal> who = Identify(ctx, req);
  if (!who.ok()) return Problem(who.status());
  Result<int64_t> id = ParseId(req.params["id"]);
  if (!id.ok()) return Problem(id.status());
  Result<Json> body = ParseBody(req);
  if (!body.ok()) return Problem(body.status());
  Fields f(*body);
  orders::TransitionRequest t;
  t.to = orders::OrderStatus::kCancelled;
  t.note = f.OptStr("note", kTextLongBytesMax).value_or("");
  if (!f.ok()) return Problem(f.status());
  if (who->account && who->account->role == Role::kClerk) {
    return Problem(Status(Code::kForbidden, "your role may not cancel orders"));
  }
  std::string scope = who->actor() + ":" + HashToken(req.Query("token"));
  return WriteRendered(ctx, req, scope, 200, [&](storage::Tx& tx) -> Result<Render> {
    std::optional<orders::Order> order = tx.orders().FindOrder(*id);
    if (!order) {
      if (who->anonymous() && req.Query("token").empty()) {
        return Status(Code::kUnauthorized, "log in or use the link from your confirmation");
      }
      return Status(Code::kNotFound, "no order " + std::to_string(*id));
    }
    Result<OrderAccess> access = AuthorizeOrder(*order, req, *who);
    if (!access.ok()) return access.status();
    // Shoppers may cancel until the order is being prepared; after that, staff decide.
    if (*access == OrderAccess::kOwner && order->status != orders::OrderStatus::kPendingPayment &&
        order->status != orders::OrderStatus::kPaid) {
      return Status(Code::kInvalidTransition,
                    "the order is being prepared; contact us to cancel it");
    }
    if (t.note.empty()) t.note = *access == OrderAccess::kOwner ? "cancelled by the customer" : "";
    orders::OrderContext octx = MakeOrderContext(ctx, tx, who->actor());
    Result<orders::Order> updated = orders::TransitionOrder(octx, *id, t);
    if (!updated.ok()) return updated.status();
    TANDEM_RETURN_IF_ERROR(AfterStaffTransition(ctx, tx, who->actor(), *updated));
    return OrderRender(std::move(updated.value()), *access == OrderAccess::kStaff);
  });
}

Response Track(ApiContext& ctx, Request& req) {
  std::string code = req.params["code"];
  if (code.size() > 40) return Problem(Status(Code::kNotFound, "no such tracking code"));
  return ReadText(ctx, [&](storage::Tx& tx) -> Result<std::string> {
    std::optional<orders::Order> order = tx.orders().FindOrderByTrackingCode(code);
    if (!order) return Status(Code::kNotFound, "no such tracking code");
    return TrackingText(*order);
  });
}

}  // namespace

void AddCartRoutes(Router& router, ApiContext& ctx) {
  router.AddAsync("POST", "/api/v1/carts",
                  [&ctx](Request& r, Respond respond) { CreateCart(ctx, r, std::move(respond)); });
  router.Add("GET", "/api/v1/carts/{id}", [&ctx](Request& r) { return GetCart(ctx, r); });
  router.AddAsync("POST", "/api/v1/carts/{id}/items",
                  [&ctx](Request& r, Respond respond) { AddCartItem(ctx, r, std::move(respond)); });
  router.Add("PATCH", "/api/v1/carts/{id}/items/{sku}",
             [&ctx](Request& r) { return SetCartItem(ctx, r, false); });
  router.Add("DELETE", "/api/v1/carts/{id}/items/{sku}",
             [&ctx](Request& r) { return SetCartItem(ctx, r, true); });
  router.Add("PUT", "/api/v1/carts/{id}/fulfillment",
             [&ctx](Request& r) { return PutFulfillment(ctx, r); });
  router.AddAsync("POST", "/api/v1/carts/{id}/checkout",
                  [&ctx](Request& r, Respond respond) { Checkout(ctx, r, std::move(respond)); });
}

void AddOrderRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/api/v1/orders", [&ctx](Request& r) { return ListOrders(ctx, r); });
  router.Add("GET", "/api/v1/orders/{id}", [&ctx](Request& r) { return GetOrder(ctx, r); });
  router.Add("POST", "/api/v1/orders/{id}/transitions",
             [&ctx](Request& r) { return PostTransition(ctx, r); });
  router.Add("POST", "/api/v1/orders/{id}/cancel", [&ctx](Request& r) { return PostCancel(ctx, r); });
  router.Add("GET", "/api/v1/track/{code}", [&ctx](Request& r) { return Track(ctx, r); });
}

}  // namespace tandem::api
