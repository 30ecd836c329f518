"""Who may do what: every route, every kind of caller.

Callers: anonymous, a customer who does not own the thing, its owner (a customer), a guest who
holds the cart token / order link ("holder"), and each staff role. Anonymous on a staff route is
401, a wrong role is 403; carts and orders that are not yours are 404 (nothing is revealed).
A refused write changes nothing.
"""

import pytest

from conftest import ADDRESS, STAFF_PASSWORD, assert_problem, unique

ANON, CUSTOMER, OWNER, HOLDER = "anon", "customer", "owner", "holder"
ADMIN, MERCHANT, OPS, CLERK = "admin", "merchant", "ops", "clerk"
STAFF = (ADMIN, MERCHANT, OPS, CLERK)
EVERYONE = (ANON, CUSTOMER) + STAFF


class Ctx:
    def __init__(self, server):
        self.s = server
        self.dc = server.location(kind="distribution_centre", ships=True, pickup=False)
        self.store = server.location(kind="store", ships=True, pickup=True)
        self.sku = server.seed({self.dc: 100000, self.store: 1000})
        self.sku2 = server.seed({self.dc: 100000})
        body = server.ok("GET", f"/api/v1/products?q={self.sku}")
        self.product_id = [p["id"] for p in body["items"]
                           if p["variants"][0]["sku"] == self.sku][0]
        self.owner = server.register(name="Owner Olwen")
        self.other = server.register(name="Other Osric")
        self.shared_owner_order = self.owner_order()
        self.shared_guest_order = self.guest_order()

    def token(self, who):
        if who in (ANON, HOLDER):
            return None
        if who == OWNER:
            return self.owner["token"]
        if who == CUSTOMER:
            return self.other["token"]
        return self.s.token(who)

    def call(self, who, method, path, json=None, headers=None):
        return self.s.req(method, path, json=json, headers=headers, token=self.token(who))

    # fresh things to act on
    def owner_cart(self, with_line=True):
        cart = self.s.new_cart(self.owner["token"])
        if with_line:
            cart.add_ok(self.sku, 1)
        return cart

    def guest_cart(self, with_line=True):
        cart = self.s.new_cart()
        if with_line:
            cart.add_ok(self.sku, 1)
        return cart

    def owner_order(self):
        return self.s.order(self.sku, 1, token=self.owner["token"])

    def guest_order(self):
        return self.s.order(self.sku, 1)


@pytest.fixture(scope="module")
def ctx(server):
    return Ctx(server)


# ---- one function per route: do it as `who`, return (status, headers, body) ----

def register(c, who):
    return c.call(who, "POST", "/api/v1/customers",
                  json={"email": f"{unique('reg')}@example.com", "password": "password-123",
                        "name": "New Person"})


def login(c, who):
    return c.call(who, "POST", "/api/v1/auth/login",
                  json={"email": c.other["email"], "password": c.other["password"]})


def logout(c, who):
    if who == ANON:
        return c.call(who, "POST", "/api/v1/auth/logout")
    if who == CUSTOMER:
        fresh = c.s.login(c.other["email"], c.other["password"])
    else:
        fresh = c.s.login(c.s.staff_email[who], STAFF_PASSWORD)
    resp = c.s.req("POST", "/api/v1/auth/logout", token=fresh)
    if resp[0] == 204:
        # The session is gone; the caller's other sessions are not.
        assert c.s.req("GET", "/api/v1/me", token=fresh)[0] == 401
        assert c.call(who, "GET", "/api/v1/me")[0] == 200
    return resp


def me(c, who):
    return c.call(who, "GET", "/api/v1/me")


def my_orders(c, who):
    resp = c.call(who, "GET", "/api/v1/me/orders")
    if resp[0] == 200:
        ids = {o["id"] for o in resp[2]["items"]}
        assert c.shared_owner_order["id"] not in ids, "someone else's order in my history"
    return resp


def search(c, who):
    return c.call(who, "GET", f"/api/v1/products?q={c.sku}")


def get_product(c, who):
    return c.call(who, "GET", f"/api/v1/products/{c.product_id}")


def create_product(c, who):
    sku = unique("AZ-")
    resp = c.call(who, "POST", "/api/v1/products",
                  json={"name": f"Authz {sku}",
                        "variants": [{"sku": sku, "price": {"amount": 100, "currency": "MYR"}}]})
    if resp[0] != 201:
        assert c.s.ok("GET", f"/api/v1/products?q={sku}")["items"] == []
    return resp


def patch_product(c, who):
    text = unique("desc-")
    resp = c.call(who, "PATCH", f"/api/v1/products/{c.product_id}", json={"description": text})
    after = c.s.ok("GET", f"/api/v1/products/{c.product_id}")["description"]
    assert (after == text) == (resp[0] == 200)
    return resp


def list_locations(c, who):
    return c.call(who, "GET", "/api/v1/locations")


def create_location(c, who):
    code = unique("AZL")
    resp = c.call(who, "POST", "/api/v1/locations",
                  json={"code": code, "name": "Authz store", "kind": "store"})
    codes = {l["code"] for l in c.s.ok("GET", "/api/v1/locations")["items"]}
    assert (code in codes) == (resp[0] == 201)
    return resp


def get_inventory(c, who):
    return c.call(who, "GET", f"/api/v1/inventory?sku={c.sku}")


def get_movements(c, who):
    return c.call(who, "GET", f"/api/v1/inventory/movements?sku={c.sku}&location_id={c.dc}")


def adjust(c, who):
    before = c.s.levels(c.sku2)[c.dc]["on_hand"]
    resp = c.call(who, "POST", "/api/v1/inventory/adjustments",
                  json={"sku": c.sku2, "location_id": c.dc, "delta": 1, "reason": "receipt"})
    after = c.s.levels(c.sku2)[c.dc]["on_hand"]
    assert after == before + (1 if resp[0] == 201 else 0)
    return resp


def create_cart(c, who):
    return c.call(who, "POST", "/api/v1/carts")


def cart_route(method, sub, json_fn=None, ok_status=200):
    """A cart route; `guest` decides whose cart it is (owner's, or a guest's with a token)."""
    def run(c, who, guest):
        cart = c.guest_cart() if guest else c.owner_cart()
        before = cart.get()
        headers = {"X-Cart-Token": cart.cart_token} if who == HOLDER else None
        body = json_fn(c) if json_fn else None
        resp = c.call(who, method, f"/api/v1/carts/{cart.id}{sub.format(sku=c.sku)}",
                      json=body, headers=headers)
        if resp[0] >= 400:
            assert cart.get() == before, "a refused cart request changed the cart"
        return resp
    return run


def line_body(c):
    return {"sku": c.sku, "quantity": 1}


def checkout_body(c):
    return {"payment_method": "cash_on_delivery", "email": f"{unique('az')}@example.com",
            "address": ADDRESS}


get_cart = cart_route("GET", "")
add_item = cart_route("POST", "/items", line_body)
patch_item = cart_route("PATCH", "/items/{sku}", lambda c: {"quantity": 2})
delete_item = cart_route("DELETE", "/items/{sku}")
put_fulfillment = cart_route("PUT", "/fulfillment",
                             lambda c: {"method": "pickup", "location_id": c.store})
checkout = cart_route("POST", "/checkout", checkout_body)


def list_orders(c, who):
    return c.call(who, "GET", "/api/v1/orders")


def order_path(c, who, guest, sub=""):
    order = c.guest_order() if guest == "fresh-guest" else \
        c.owner_order() if guest == "fresh-owner" else \
        c.shared_guest_order if guest else c.shared_owner_order
    path = f"/api/v1/orders/{order['id']}{sub}"
    if who == HOLDER:
        path += f"?token={order['access_token']}"
    return order, path


def get_order(c, who, guest):
    order, path = order_path(c, who, guest)
    resp = c.call(who, "GET", path)
    if resp[0] == 200:
        assert resp[2]["id"] == order["id"]
    return resp


def transition(c, who, guest):
    order, path = order_path(c, who, "fresh-guest" if guest else "fresh-owner",
                             "/transitions")
    resp = c.call(who, "POST", path, json={"to": "processing"})
    status = c.s.get_order(order["id"])["status"]
    assert status == ("processing" if resp[0] == 200 else "pending_payment")
    return resp


def cancel(c, who, guest):
    order, path = order_path(c, who, "fresh-guest" if guest else "fresh-owner", "/cancel")
    resp = c.call(who, "POST", path)
    status = c.s.get_order(order["id"])["status"]
    assert status == ("cancelled" if resp[0] == 200 else "pending_payment")
    return resp


def track(c, who):
    return c.call(who, "GET", f"/api/v1/track/{c.shared_owner_order['tracking_code']}")


def plain_get(path):
    def run(c, who):
        return c.call(who, "GET", path)
    return run


def everyone(status):
    return {who: status for who in EVERYONE}


def _ts(minutes):
    import datetime
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def create_event(ctx, who):
    sku = ctx.s.seed({ctx.dc: 5})
    return ctx.call(who, "POST", "/api/v1/sale-events",
                    json={"name": "authz", "starts_at": _ts(60), "ends_at": _ts(120),
                          "per_customer_limit": 1, "skus": [{"sku": sku, "ring_fenced": 1}]})


def _event_id(ctx):
    if not hasattr(ctx, "event_id"):
        resp = create_event(ctx, ADMIN)
        assert resp[0] == 201, resp
        ctx.event_id = resp[2]["id"]
    return ctx.event_id


def list_events(ctx, who):
    return ctx.call(who, "GET", "/api/v1/sale-events")


def get_event(ctx, who):
    return ctx.call(who, "GET", f"/api/v1/sale-events/{_event_id(ctx)}")


def event_readiness(ctx, who):
    return ctx.call(who, "GET", f"/api/v1/sale-events/{_event_id(ctx)}/readiness")


def create_transfer(ctx, who):
    return ctx.call(who, "POST", "/api/v1/transfers",
                    json={"sku": ctx.sku2, "from_location_id": ctx.dc,
                          "to_location_id": ctx.store, "quantity": 1})


def list_transfers(ctx, who):
    return ctx.call(who, "GET", "/api/v1/transfers")


def receive_transfer(ctx, who):
    started = create_transfer(ctx, ADMIN)
    assert started[0] == 201, started
    return ctx.call(who, "POST", f"/api/v1/transfers/{started[2]['id']}/receive")


# ---- payments, invoices, shipments (issue 20) ----

def bank_order(c, owned):
    """A fresh bank-transfer order of the owner (owned) or of a guest."""
    token = c.owner["token"] if owned else None
    cart = c.s.new_cart(token)
    cart.add_ok(c.sku, 1)
    body = {"payment_method": "bank_transfer", "address": ADDRESS}
    if not owned:
        body.update(email=f"{unique('g')}@example.com", name="Guest Payer")
    resp = cart.checkout(body)
    assert resp[0] == 201, resp
    return resp[2]


def with_link(order, who, path):
    return path + (f"?token={order['access_token']}" if who == HOLDER else "")


def paid_order(c):
    order = bank_order(c, False)
    p = c.s.ok("POST", f"/api/v1/orders/{order['id']}/payments", status=201,
               json={"method": "bank_transfer"}, token=c.s.token(ADMIN))
    c.s.ok("POST", f"/api/v1/orders/{order['id']}/payments/{p['id']}/verify", json={},
           token=c.s.token(ADMIN))
    return order, p


def list_payments(c, who, guest):
    order, path = order_path(c, who, guest, "/payments")
    return c.call(who, "GET", path)


def record_payment(c, who, guest):
    order = bank_order(c, not guest)
    resp = c.call(who, "POST", with_link(order, who, f"/api/v1/orders/{order['id']}/payments"),
                  json={"method": "bank_transfer"})
    made = c.s.ok("GET", f"/api/v1/orders/{order['id']}/payments",
                  token=c.s.token(ADMIN))["items"]
    assert len(made) == (1 if resp[0] == 201 else 0)
    return resp


def verify_payment(c, who):
    order = bank_order(c, False)
    p = c.s.ok("POST", f"/api/v1/orders/{order['id']}/payments", status=201,
               json={"method": "bank_transfer"}, token=c.s.token(ADMIN))
    resp = c.call(who, "POST", f"/api/v1/orders/{order['id']}/payments/{p['id']}/verify",
                  json={})
    status = c.s.get_order(order["id"])["status"]
    assert status == ("paid" if resp[0] == 200 else "pending_payment")
    return resp


def refund(c, who):
    order, p = paid_order(c)
    resp = c.call(who, "POST", f"/api/v1/orders/{order['id']}/refunds",
                  json={"amount": 100, "reason": "authz"})
    docs = c.s.ok("GET", f"/api/v1/orders/{order['id']}/invoices",
                  token=c.s.token(ADMIN))["items"]
    assert sum(d["kind"] == "credit_note" for d in docs) == (1 if resp[0] == 201 else 0)
    return resp


def list_invoices(c, who, guest):
    order, path = order_path(c, who, guest, "/invoices")
    return c.call(who, "GET", path)


def list_shipments(c, who, guest):
    order, path = order_path(c, who, guest, "/shipments")
    return c.call(who, "GET", path)


def processing_shipment(c):
    order = c.guest_order()
    c.s.ok("POST", f"/api/v1/orders/{order['id']}/transitions", json={"to": "processing"},
           token=c.s.token(ADMIN))
    [shipment] = c.s.shipments(order["id"])
    return order, shipment


def get_shipment(c, who):
    order, shipment = processing_shipment(c)
    return c.call(who, "GET", f"/api/v1/shipments/{shipment['id']}")


def scan_unit(c, who):
    order, shipment = processing_shipment(c)
    resp = c.call(who, "POST", f"/api/v1/shipments/{shipment['id']}/scans",
                  json={"code": c.sku})
    after = c.s.shipments(order["id"])[0]["units"][0]["scanned"]
    assert after == (1 if resp[0] == 200 else 0)
    return resp


def pick_list(c, who):
    order, shipment = processing_shipment(c)
    return c.call(who, "GET", f"/api/v1/locations/{shipment['location_id']}/pick-list")


def staff_only(staff_status, roles=STAFF, owner=None):
    table = {ANON: 401, CUSTOMER: 403}
    for role in STAFF:
        table[role] = staff_status if role in roles else 403
    if owner is not None:
        table[OWNER] = owner
    return table


def owner_only(owner_status, holder=None):
    table = {who: 404 for who in EVERYONE}
    if holder is None:
        table[OWNER] = owner_status
    else:
        table[HOLDER] = holder
        table[OWNER] = 404  # a customer who does not own the guest cart
    return table


def logged_in(status):
    table = {who: status for who in EVERYONE}
    table[ANON] = 401
    return table


# route, function, guest-owned?, expected status per caller
TABLE = [
    ("POST /api/v1/customers", register, None, everyone(201)),
    ("POST /api/v1/auth/login", login, None, everyone(200)),
    ("POST /api/v1/auth/logout", logout, None, logged_in(204)),
    ("GET /api/v1/me", me, None, logged_in(200)),
    ("GET /api/v1/me/orders", my_orders, None, logged_in(200)),
    ("GET /api/v1/products", search, None, everyone(200)),
    ("GET /api/v1/products/{id}", get_product, None, everyone(200)),
    ("POST /api/v1/products", create_product, None, staff_only(201, (ADMIN, MERCHANT))),
    ("PATCH /api/v1/products/{id}", patch_product, None, staff_only(200, (ADMIN, MERCHANT))),
    ("GET /api/v1/locations", list_locations, None, everyone(200)),
    ("POST /api/v1/locations", create_location, None, staff_only(201, (ADMIN,))),
    ("GET /api/v1/inventory", get_inventory, None, staff_only(200)),
    ("GET /api/v1/inventory/movements", get_movements, None, staff_only(200)),
    ("POST /api/v1/inventory/adjustments", adjust, None, staff_only(201, (ADMIN, OPS, CLERK))),
    ("POST /api/v1/carts", create_cart, None, everyone(201)),
    ("GET /api/v1/carts/{id}", get_cart, False, owner_only(200)),
    ("GET /api/v1/carts/{id} guest", get_cart, True, owner_only(None, holder=200)),
    ("POST /api/v1/carts/{id}/items", add_item, False, owner_only(201)),
    ("POST /api/v1/carts/{id}/items guest", add_item, True, owner_only(None, holder=201)),
    ("PATCH /api/v1/carts/{id}/items/{sku}", patch_item, False, owner_only(200)),
    ("PATCH /api/v1/carts/{id}/items/{sku} guest", patch_item, True,
     owner_only(None, holder=200)),
    ("DELETE /api/v1/carts/{id}/items/{sku}", delete_item, False, owner_only(200)),
    ("DELETE /api/v1/carts/{id}/items/{sku} guest", delete_item, True,
     owner_only(None, holder=200)),
    ("PUT /api/v1/carts/{id}/fulfillment", put_fulfillment, False, owner_only(200)),
    ("PUT /api/v1/carts/{id}/fulfillment guest", put_fulfillment, True,
     owner_only(None, holder=200)),
    ("POST /api/v1/carts/{id}/checkout", checkout, False, owner_only(201)),
    ("POST /api/v1/carts/{id}/checkout guest", checkout, True, owner_only(None, holder=201)),
    ("GET /api/v1/orders", list_orders, None, staff_only(200, owner=403)),
    ("GET /api/v1/orders/{id}", get_order, False,
     {ANON: 401, CUSTOMER: 404, OWNER: 200, **{r: 200 for r in STAFF}}),
    ("GET /api/v1/orders/{id} guest", get_order, True,
     {ANON: 401, CUSTOMER: 404, HOLDER: 200, **{r: 200 for r in STAFF}}),
    ("POST /api/v1/orders/{id}/transitions", transition, False, staff_only(200, owner=403)),
    ("POST /api/v1/orders/{id}/transitions guest", transition, True,
     {**staff_only(200), HOLDER: 401}),
    ("POST /api/v1/orders/{id}/cancel", cancel, False,
     {ANON: 401, CUSTOMER: 404, OWNER: 200, ADMIN: 200, MERCHANT: 200, OPS: 200, CLERK: 403}),
    ("POST /api/v1/orders/{id}/cancel guest", cancel, True,
     {ANON: 401, CUSTOMER: 404, HOLDER: 200, ADMIN: 200, MERCHANT: 200, OPS: 200,
      CLERK: 403}),
    ("GET /api/v1/track/{code}", track, None, everyone(200)),
    ("GET /api/v1/orders/{id}/payments", list_payments, False,
     {ANON: 401, CUSTOMER: 404, OWNER: 200, **{r: 200 for r in STAFF}}),
    ("GET /api/v1/orders/{id}/payments guest", list_payments, True,
     {ANON: 401, CUSTOMER: 404, HOLDER: 200, **{r: 200 for r in STAFF}}),
    ("POST /api/v1/orders/{id}/payments", record_payment, False,
     {ANON: 401, CUSTOMER: 404, OWNER: 201, **{r: 201 for r in STAFF}}),
    ("POST /api/v1/orders/{id}/payments guest", record_payment, True,
     {ANON: 401, CUSTOMER: 404, HOLDER: 201, **{r: 201 for r in STAFF}}),
    ("POST /api/v1/orders/{id}/payments/{pid}/verify", verify_payment, None,
     {**staff_only(200, (ADMIN, MERCHANT, OPS)), OWNER: 403}),
    ("POST /api/v1/orders/{id}/refunds", refund, None,
     {**staff_only(201, (ADMIN, MERCHANT)), OWNER: 403}),
    ("GET /api/v1/orders/{id}/invoices", list_invoices, False,
     {ANON: 401, CUSTOMER: 404, OWNER: 200, **{r: 200 for r in STAFF}}),
    ("GET /api/v1/orders/{id}/invoices guest", list_invoices, True,
     {ANON: 401, CUSTOMER: 404, HOLDER: 200, **{r: 200 for r in STAFF}}),
    ("GET /api/v1/orders/{id}/shipments", list_shipments, False,
     {ANON: 401, CUSTOMER: 404, OWNER: 200, **{r: 200 for r in STAFF}}),
    ("GET /api/v1/orders/{id}/shipments guest", list_shipments, True,
     {ANON: 401, CUSTOMER: 404, HOLDER: 200, **{r: 200 for r in STAFF}}),
    # A clerk acts only at their own store; this clerk has none.
    ("GET /api/v1/shipments/{id}", get_shipment, None, {**staff_only(200), CLERK: 403}),
    ("POST /api/v1/shipments/{id}/scans", scan_unit, None, {**staff_only(200), CLERK: 403}),
    ("GET /api/v1/locations/{id}/pick-list", pick_list, None, {**staff_only(200), CLERK: 403}),
    ("POST /api/v1/sale-events", create_event, None, staff_only(201, (ADMIN, MERCHANT))),
    ("GET /api/v1/sale-events", list_events, None, staff_only(200)),
    ("GET /api/v1/sale-events/{id}", get_event, None, staff_only(200)),
    ("GET /api/v1/sale-events/{id}/readiness", event_readiness, None,
     staff_only(200, (ADMIN, MERCHANT, OPS))),
    ("POST /api/v1/transfers", create_transfer, None, staff_only(201, (ADMIN, OPS))),
    ("GET /api/v1/transfers", list_transfers, None, staff_only(200)),
    # A clerk receives only at their own store; this clerk has none.
    ("POST /api/v1/transfers/{id}/receive", receive_transfer, None,
     {**staff_only(200, (ADMIN, OPS, CLERK)), CLERK: 403}),
    ("GET /healthz", plain_get("/healthz"), None, everyone(200)),
    ("GET /readyz", plain_get("/readyz"), None, everyone(200)),
    ("GET /metrics", plain_get("/metrics"), None, everyone(200)),
    ("GET /api/v1/openapi.json", plain_get("/api/v1/openapi.json"), None, everyone(200)),
]

CASES = [pytest.param(fn, guest, who, status, id=f"{route} as {who}")
         for route, fn, guest, expected in TABLE
         for who, status in expected.items() if status is not None]

PROBLEM_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found"}


@pytest.mark.parametrize("fn,guest,who,expected", CASES)
def test_access(ctx, fn, guest, who, expected):
    resp = fn(ctx, who) if guest is None else fn(ctx, who, guest)
    if expected in PROBLEM_CODES:
        assert_problem(resp, expected, PROBLEM_CODES[expected])
    else:
        assert resp[0] == expected, f"expected {expected}, got {resp[0]}: {resp[2]!r}"


def test_inventory_consistent_after_authz(server, ctx):
    server.assert_consistent()


def test_idempotent_replay_needs_the_cart_token(server, ctx):
    """Replaying another guest's checkout (same path, key and body) must not hand out their
    order: the replay is an answer to the cart's holder only."""
    cart = ctx.guest_cart()
    body = checkout_body(ctx)
    key = "checkout-" + str(cart.id)  # a predictable key, as some clients make them
    status, _, order = cart.checkout(body, key=key)
    assert status == 201, order
    for headers in ({"Idempotency-Key": key},
                    {"Idempotency-Key": key, "X-Cart-Token": ctx.guest_cart().cart_token}):
        resp = server.req("POST", f"/api/v1/carts/{cart.id}/checkout", json=body,
                          headers=headers)
        assert resp[0] != 201 or resp[2].get("access_token") != order["access_token"], \
            "a stranger received the guest's order and its access token"
        assert_problem(resp, 404, "not_found")
