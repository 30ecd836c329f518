"""Bad input gets a clear problem+json answer with a stable code, changes nothing, and never takes
the server down (§I8)."""

import socket
import threading

import pytest

from conftest import ADDRESS, assert_problem, read_http_response, unique


@pytest.fixture(scope="module")
def env(server):
    dc = server.location(kind="distribution_centre", ships=True, pickup=False)
    store = server.location(kind="store", ships=True, pickup=True)
    sku = server.seed({dc: 50})
    cart = server.new_cart()
    cart.add_ok(sku, 2)
    return {"dc": dc, "store": store, "sku": sku, "cart": cart}


def snapshot(server, env):
    """What a shopper and staff can see of the cart and the stock."""
    return env["cart"].get(), server.levels(env["sku"])


def assert_alive(server):
    assert server.ok("GET", "/healthz") == {"status": "ok"}


# ---- adding to a cart ----

RAW_ITEM_BODIES = [
    ("truncated", b'{"sku": "X", "quantity": ', 400, "malformed_json"),
    ("not json", b"not json at all", 400, "malformed_json"),
    ("trailing comma", b'{"sku": "X", "quantity": 1,}', 400, "malformed_json"),
    ("NaN", b'{"sku": "X", "quantity": NaN}', 400, "malformed_json"),
    ("invalid utf-8", b'{"sku": "\xff\xfe", "quantity": 1}', 400, "malformed_json"),
    ("unclosed nesting", b"[" * 200000, 400, "malformed_json"),
    ("deep nesting", b"[" * 100000 + b"]" * 100000, 422, "validation_failed"),
    ("array body", b'[{"sku": "SKU", "quantity": 1}]', 422, "validation_failed"),
    ("string body", b'"sku"', 422, "validation_failed"),
    ("number body", b"42", 422, "validation_failed"),
    ("null body", b"null", 422, "validation_failed"),
    ("empty body", b"", 422, "validation_failed"),
]


@pytest.mark.parametrize("raw,status,code", [pytest.param(r, s, c, id=i)
                                             for i, r, s, c in RAW_ITEM_BODIES])
def test_add_item_malformed_body(server, env, raw, status, code):
    before = snapshot(server, env)
    resp = env["cart"].call("POST", "/items", raw_body=raw.replace(b"SKU", env["sku"].encode()))
    assert_problem(resp, status, code)
    assert snapshot(server, env) == before
    assert_alive(server)


ITEM_BODIES = [
    ("sku is a number", {"sku": 123, "quantity": 1}, 422, "validation_failed"),
    ("sku is empty", {"sku": "", "quantity": 1}, 422, "validation_failed"),
    ("sku too long", {"sku": "A" * 65, "quantity": 1}, 422, "validation_failed"),
    ("sku missing", {"quantity": 1}, 422, "validation_failed"),
    ("quantity missing", {"sku": "SKU"}, 422, "validation_failed"),
    ("empty object", {}, 422, "validation_failed"),
    ("quantity is a string", {"sku": "SKU", "quantity": "1"}, 422, "validation_failed"),
    ("quantity is a fraction", {"sku": "SKU", "quantity": 1.5}, 422, "validation_failed"),
    ("quantity is a bool", {"sku": "SKU", "quantity": True}, 422, "validation_failed"),
    ("quantity is null", {"sku": "SKU", "quantity": None}, 422, "validation_failed"),
    ("quantity is a list", {"sku": "SKU", "quantity": [1]}, 422, "validation_failed"),
    ("quantity 0", {"sku": "SKU", "quantity": 0}, 422, "validation_failed"),
    ("quantity -1", {"sku": "SKU", "quantity": -1}, 422, "validation_failed"),
    ("quantity 1000", {"sku": "SKU", "quantity": 1000}, 422, "validation_failed"),
    ("quantity 1e30", {"sku": "SKU", "quantity": 1e30}, 422, "validation_failed"),
    ("quantity 10**30", {"sku": "SKU", "quantity": 10 ** 30}, 422, "validation_failed"),
    ("quantity 2**70", {"sku": "SKU", "quantity": 2 ** 70}, 422, "validation_failed"),
    ("quantity -2**70", {"sku": "SKU", "quantity": -2 ** 70}, 422, "validation_failed"),
    ("quantity 2**63", {"sku": "SKU", "quantity": 2 ** 63}, 422, "validation_failed"),
    ("quantity 2**64-1", {"sku": "SKU", "quantity": 2 ** 64 - 1}, 422, "validation_failed"),
    ("quantity -2**63", {"sku": "SKU", "quantity": -2 ** 63}, 422, "validation_failed"),
    # 2 already in the cart: 2 + 998 is past the 999 per line.
    ("line past 999", {"sku": "SKU", "quantity": 998}, 422, "validation_failed"),
    ("unknown sku", {"sku": "NO-SUCH-SKU-1", "quantity": 1}, 404, "not_found"),
    ("more than in stock", {"sku": "SKU", "quantity": 49}, 409, "insufficient_stock"),
]


def fill(body, sku):
    return {k: (sku if v == "SKU" else v) for k, v in body.items()}


@pytest.mark.parametrize("body,status,code", [pytest.param(b, s, c, id=i)
                                              for i, b, s, c in ITEM_BODIES])
def test_add_item_bad_fields(server, env, body, status, code):
    before = snapshot(server, env)
    assert_problem(env["cart"].call("POST", "/items", json=fill(body, env["sku"])), status, code)
    assert snapshot(server, env) == before
    assert_alive(server)


def test_add_item_limits_are_inclusive(server, env):
    """999 units in one line is allowed (when in stock); the refusals above are one past."""
    sku = server.seed({env["dc"]: 999})
    cart = server.new_cart()
    view = cart.add_ok(sku, 999)
    assert view["items"][0]["quantity"] == 999
    assert_problem(cart.add(sku, 1), 422, "validation_failed")
    assert cart.get()["items"][0]["quantity"] == 999
    assert server.total(sku) == 0
    server.assert_consistent()


# ---- other cart writes ----

@pytest.mark.parametrize("method,sub,body,status,code", [
    pytest.param("PATCH", "/items/SKU", {"quantity": -1}, 422, "validation_failed", id="patch -1"),
    pytest.param("PATCH", "/items/SKU", {"quantity": 1000}, 422, "validation_failed",
                 id="patch 1000"),
    pytest.param("PATCH", "/items/SKU", {"quantity": "2"}, 422, "validation_failed",
                 id="patch string"),
    pytest.param("PATCH", "/items/SKU", {"quantity": 2 ** 70}, 422, "validation_failed",
                 id="patch 2**70"),
    pytest.param("PATCH", "/items/SKU", {}, 422, "validation_failed", id="patch missing"),
    pytest.param("PATCH", "/items/NOT-IN-CART", {"quantity": 1}, 404, "not_found",
                 id="patch other line"),
    pytest.param("DELETE", "/items/NOT-IN-CART", None, 404, "not_found", id="delete other line"),
    pytest.param("PUT", "/fulfillment", {"method": "teleport"}, 422, "validation_failed",
                 id="unknown method"),
    pytest.param("PUT", "/fulfillment", {}, 422, "validation_failed", id="no method"),
    pytest.param("PUT", "/fulfillment", {"method": "pickup"}, 422, "validation_failed",
                 id="pickup without store"),
    pytest.param("PUT", "/fulfillment", {"method": "pickup", "location_id": 99999999}, 404,
                 "not_found", id="pickup unknown store"),
    pytest.param("PUT", "/fulfillment", {"method": "pickup", "location_id": "one"}, 422,
                 "validation_failed", id="pickup store is a string"),
    pytest.param("PUT", "/fulfillment", {"method": "delivery", "service": "overnight"}, 422,
                 "validation_failed", id="unknown service"),
    pytest.param("PUT", "/fulfillment", {"method": "delivery", "address": "KL"}, 422,
                 "validation_failed", id="address is a string"),
    pytest.param("PUT", "/fulfillment",
                 {"method": "delivery", "address": dict(ADDRESS, country="MYS")}, 422,
                 "validation_failed", id="three-letter country"),
    pytest.param("PUT", "/fulfillment",
                 {"method": "delivery", "address": {k: v for k, v in ADDRESS.items()
                                                    if k != "line1"}}, 422,
                 "validation_failed", id="address without street"),
    pytest.param("POST", "/checkout", {}, 422, "validation_failed", id="checkout empty"),
    pytest.param("POST", "/checkout",
                 {"payment_method": "bitcoin", "email": "a@example.com", "address": ADDRESS},
                 422, "validation_failed", id="unknown payment method"),
    pytest.param("POST", "/checkout",
                 {"payment_method": "cash_on_delivery", "email": "a@example.com"},
                 422, "validation_failed", id="delivery without address"),
    pytest.param("POST", "/checkout",
                 {"payment_method": "cash_on_delivery", "email": "not-an-email",
                  "address": ADDRESS}, 422, "validation_failed", id="bad email"),
    pytest.param("POST", "/checkout",
                 {"payment_method": "cash_on_delivery", "address": ADDRESS},
                 422, "validation_failed", id="guest without email"),
    pytest.param("POST", "/checkout",
                 {"payment_method": "cash_on_delivery", "email": "a@example.com",
                  "address": ADDRESS, "name": "N" * 201}, 422, "validation_failed",
                 id="name too long"),
    pytest.param("POST", "/checkout",
                 {"payment_method": "cash_on_delivery", "email": "a@example.com",
                  "address": ADDRESS, "newsletter_opt_in": "yes"}, 422, "validation_failed",
                 id="opt-in is a string"),
])
def test_cart_writes_refused(server, env, method, sub, body, status, code):
    before = snapshot(server, env)
    resp = env["cart"].call(method, sub.replace("SKU", env["sku"]), json=body)
    assert_problem(resp, status, code)
    after = snapshot(server, env)
    assert after == before
    assert after[0]["status"] == "open"
    assert_alive(server)


@pytest.mark.parametrize("path", ["/api/v1/carts/abc", "/api/v1/carts/0", "/api/v1/carts/-1",
                                  "/api/v1/carts/99999999999999999999", "/api/v1/carts/1.5",
                                  "/api/v1/orders/abc", "/api/v1/products/abc",
                                  "/api/v1/products/99999999"])
def test_bad_ids_are_not_found(server, env, path):
    assert_problem(server.req("GET", path, token=server.token("admin"),
                              headers={"X-Cart-Token": env["cart"].cart_token}), 404, "not_found")


# ---- staff writes ----

ADJUSTMENTS = [
    ("delta 0", {"delta": 0}, 422, "validation_failed"),
    ("delta past 1e6", {"delta": 1000001}, 422, "validation_failed"),
    ("delta string", {"delta": "5"}, 422, "validation_failed"),
    ("delta 2**70", {"delta": 2 ** 70}, 422, "validation_failed"),
    ("unknown reason", {"reason": "stolen"}, 422, "validation_failed"),
    ("reason sale_online", {"reason": "sale_online"}, 422, "validation_failed"),
    ("negative receipt", {"delta": -1}, 422, "validation_failed"),
    ("unknown sku", {"sku": "NO-SUCH-SKU-2"}, 404, "not_found"),
    ("unknown location", {"location_id": 99999999}, 404, "not_found"),
    ("location 0", {"location_id": 0}, 422, "validation_failed"),
    ("missing reason", {"reason": None}, 422, "validation_failed"),
    # 50 on hand, 2 held by the cart: taking 49 away would uncover the hold.
    ("below committed", {"delta": -49, "reason": "adjustment"}, 409, "stock_committed"),
]


@pytest.mark.parametrize("change,status,code", [pytest.param(c, s, k, id=i)
                                                for i, c, s, k in ADJUSTMENTS])
def test_adjustment_refused(server, env, change, status, code):
    body = {"sku": env["sku"], "location_id": env["dc"], "delta": 5, "reason": "receipt"}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    before = snapshot(server, env)
    moves = server.movements(env["sku"], env["dc"])
    assert_problem(server.req("POST", "/api/v1/inventory/adjustments", json=body,
                              token=server.token("admin")), status, code)
    assert snapshot(server, env) == before
    assert server.movements(env["sku"], env["dc"]) == moves
    assert_alive(server)


def variant(sku, **kw):
    v = {"sku": sku, "price": {"amount": 1000, "currency": "MYR"}}
    v.update(kw)
    return v


PRODUCTS = [
    ("no variants", lambda n, s: {"name": n, "variants": []}, 422, "validation_failed"),
    ("variants missing", lambda n, s: {"name": n}, 422, "validation_failed"),
    ("name missing", lambda n, s: {"variants": [variant(s)]}, 422, "validation_failed"),
    ("price 0", lambda n, s: {"name": n, "variants": [variant(s, price={"amount": 0,
                                                                       "currency": "MYR"})]},
     422, "validation_failed"),
    ("price negative", lambda n, s: {"name": n, "variants": [
        variant(s, price={"amount": -5, "currency": "MYR"})]}, 422, "validation_failed"),
    ("price 2**70", lambda n, s: {"name": n, "variants": [
        variant(s, price={"amount": 2 ** 70, "currency": "MYR"})]}, 422, "validation_failed"),
    ("price is a float", lambda n, s: {"name": n, "variants": [
        variant(s, price={"amount": 12.5, "currency": "MYR"})]}, 422, "validation_failed"),
    ("bad currency", lambda n, s: {"name": n, "variants": [
        variant(s, price={"amount": 100, "currency": "ringgit"})]}, 422, "validation_failed"),
    ("price missing", lambda n, s: {"name": n, "variants": [{"sku": s}]}, 422,
     "validation_failed"),
    ("sku with space", lambda n, s: {"name": n, "variants": [variant(s + " x")]}, 422,
     "validation_failed"),
    ("sku repeated", lambda n, s: {"name": n, "variants": [variant(s), variant(s)]}, 422,
     "validation_failed"),
    ("name too long", lambda n, s: {"name": n + "x" * 200, "variants": [variant(s)]}, 422,
     "validation_failed"),
    ("option not a string", lambda n, s: {"name": n, "variants": [variant(s, options={"size": 4})]},
     422, "validation_failed"),
    ("image url javascript", lambda n, s: {"name": n, "variants": [
        variant(s, image_url="javascript:alert(1)")]}, 422, "validation_failed"),
    ("101 variants", lambda n, s: {"name": n, "variants": [variant(f"{s}-{i}")
                                                           for i in range(101)]},
     422, "too_many_lines"),
    ("variants is an object", lambda n, s: {"name": n, "variants": {"sku": s}}, 422,
     "validation_failed"),
]


@pytest.mark.parametrize("make,status,code", [pytest.param(m, s, c, id=i)
                                              for i, m, s, c in PRODUCTS])
def test_product_refused(server, env, make, status, code):
    name = unique("Refusedprod")
    sku = unique("RP-")
    assert_problem(server.req("POST", "/api/v1/products", json=make(name, sku),
                              token=server.token("admin")), status, code)
    assert server.ok("GET", f"/api/v1/products?q={name}")["items"] == []
    # Nothing half-made: the SKU is still free.
    server.ok("POST", "/api/v1/products", status=201, token=server.token("admin"),
              json={"name": name + "ok", "variants": [variant(sku)]})
    assert_alive(server)


def test_duplicate_sku_and_location_code_conflict(server, env):
    name = unique("Dupe")
    assert_problem(server.req("POST", "/api/v1/products", token=server.token("admin"),
                              json={"name": name, "variants": [variant(env["sku"])]}),
                   409, "conflict")
    assert server.ok("GET", f"/api/v1/products?q={name}")["items"] == []
    code = unique("DUPL")
    server.ok("POST", "/api/v1/locations", status=201, token=server.token("admin"),
              json={"code": code, "name": "First", "kind": "store"})
    assert_problem(server.req("POST", "/api/v1/locations", token=server.token("admin"),
                              json={"code": code, "name": "Second", "kind": "store"}),
                   409, "conflict")
    names = [l["name"] for l in server.ok("GET", "/api/v1/locations")["items"]
             if l["code"] == code]
    assert names == ["First"]


@pytest.mark.parametrize("body", [
    pytest.param({"code": "X1", "name": "Castle", "kind": "castle"}, id="unknown kind"),
    pytest.param({"code": "X2", "name": "North", "kind": "store", "latitude": 91}, id="lat 91"),
    pytest.param({"code": "X3", "name": "East", "kind": "store", "longitude": "east"},
                 id="longitude string"),
    pytest.param({"code": "X4", "name": "Safe", "kind": "store", "safety_stock_default": -1},
                 id="negative safety stock"),
    pytest.param({"name": "No code", "kind": "store"}, id="no code"),
    pytest.param({"code": "X5", "name": "Flags", "kind": "store", "pickup": "yes"},
                 id="flag string"),
])
def test_location_refused(server, env, body):
    before = server.ok("GET", "/api/v1/locations")["items"]
    assert_problem(server.req("POST", "/api/v1/locations", json=body,
                              token=server.token("admin")), 422, "validation_failed")
    assert server.ok("GET", "/api/v1/locations")["items"] == before


@pytest.mark.parametrize("body", [
    pytest.param({"email": "E", "password": "short", "name": "Shorty"}, id="short password"),
    pytest.param({"email": "not-an-email", "password": "long-enough-1", "name": "N"},
                 id="bad email"),
    pytest.param({"email": "E", "password": "long-enough-1"}, id="no name"),
    pytest.param({"email": "E", "password": "long-enough-1", "name": ""}, id="empty name"),
    pytest.param({"email": "E", "password": 12345678, "name": "N"}, id="password number"),
    pytest.param({"email": "E", "password": "p" * 201, "name": "N"}, id="password too long"),
])
def test_registration_refused(server, env, body):
    email = f"{unique('nobody')}@example.com"
    body = {k: (email if v == "E" else v) for k, v in body.items()}
    assert_problem(server.req("POST", "/api/v1/customers", json=body), 422, "validation_failed")
    # No account was made: logging in with it fails the same way as for a stranger.
    assert_problem(server.req("POST", "/api/v1/auth/login",
                              json={"email": email, "password": "long-enough-1"}),
                   401, "unauthorized")


@pytest.mark.parametrize("path,role", [
    ("/api/v1/inventory", "ops"),
    ("/api/v1/inventory?location_id=abc", "ops"),
    ("/api/v1/inventory?sku=X&limit=abc", "ops"),
    ("/api/v1/inventory/movements?sku=X", "ops"),
    ("/api/v1/inventory/movements?location_id=1", "ops"),
    ("/api/v1/products?q=" + "q" * 201, None),
    ("/api/v1/products?cursor=-1", None),
    ("/api/v1/products?cursor=abc", None),
    ("/api/v1/products?limit=-5", None),
    ("/api/v1/orders?status=lost", "ops"),
    ("/api/v1/orders?cursor=abc", "ops"),
    ("/api/v1/orders?q=" + "q" * 201, "ops"),
    ("/api/v1/me/orders?limit=1000", "customer"),
])
def test_bad_query_parameters(server, env, path, role):
    token = None
    if role == "customer":
        token = env.setdefault("customer", server.register())["token"]
    elif role:
        token = server.token(role)
    assert_problem(server.req("GET", path, token=token), 422, "validation_failed")


def test_idempotency_key_too_long(server, env):
    before = snapshot(server, env)
    resp = env["cart"].call("POST", "/items", json={"sku": env["sku"], "quantity": 1},
                            headers={"Idempotency-Key": "k" * 201})
    assert_problem(resp, 422, "validation_failed")
    assert snapshot(server, env) == before


# ---- sizes ----

def raw_exchange(server, head, body_chunks=()):
    """Sends `head` and, from another thread, `body_chunks`; reads the answer meanwhile."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    try:
        sock.sendall(head)

        def send_rest():
            try:
                for chunk in body_chunks:
                    sock.sendall(chunk)
            except OSError:
                pass  # the server may answer and close before reading it all
        sender = threading.Thread(target=send_rest, daemon=True)
        sender.start()
        result = read_http_response(sock)
        sender.join(timeout=20)
        return result
    finally:
        sock.close()


def check_413(server, env, status, headers, body):
    import json
    assert status == 413, body
    assert headers.get("content-type", "").startswith("application/problem+json")
    assert json.loads(body)["code"] == "payload_too_large"
    assert headers.get("x-request-id")


def items_head(server, env, extra):
    cart = env["cart"]
    return (f"POST /api/v1/carts/{cart.id}/items HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"X-Cart-Token: {cart.cart_token}\r\nContent-Type: application/json\r\n"
            f"{extra}\r\n").encode()


def test_oversized_body_declared_length(server, env):
    before = snapshot(server, env)
    status, headers, body = raw_exchange(server, items_head(server, env,
                                                            "Content-Length: 1048577\r\n"))
    check_413(server, env, status, headers, body)
    assert snapshot(server, env) == before
    assert_alive(server)


def test_oversized_body_sent_in_full(server, env):
    before = snapshot(server, env)
    size = 1024 * 1024 + 4096
    payload = b'{"sku": "%s", "quantity": 1, "pad": "' % env["sku"].encode()
    payload += b"x" * (size - len(payload) - 2) + b'"}'
    chunks = [payload[i:i + 65536] for i in range(0, len(payload), 65536)]
    status, headers, body = raw_exchange(
        server, items_head(server, env, f"Content-Length: {len(payload)}\r\n"), chunks)
    check_413(server, env, status, headers, body)
    assert snapshot(server, env) == before
    assert_alive(server)


def test_oversized_chunked_body(server, env):
    before = snapshot(server, env)
    piece = b"x" * 65536
    chunks = [b"%x\r\n%s\r\n" % (len(piece), piece)] * 20 + [b"0\r\n\r\n"]
    status, headers, body = raw_exchange(
        server, items_head(server, env, "Transfer-Encoding: chunked\r\n"), chunks)
    check_413(server, env, status, headers, body)
    assert snapshot(server, env) == before
    assert_alive(server)


def test_body_of_exactly_one_mebibyte_is_read(server, env):
    """The limit is 1 MiB: a body of exactly that size is parsed (and refused as bad JSON)."""
    before = snapshot(server, env)
    raw = b"{" + b" " * (1024 * 1024 - 1)
    assert len(raw) == 1024 * 1024
    assert_problem(env["cart"].call("POST", "/items", raw_body=raw), 400, "malformed_json")
    assert snapshot(server, env) == before


# ---- too many lines ----

def test_cart_refuses_the_101st_line(server, env):
    # One product per SKU: 101 products with one unit each.
    skus = [server.seed({env["dc"]: 1}, price=100) for _ in range(101)]
    cart = server.new_cart()
    for sku in skus[:100]:
        cart.add_ok(sku, 1)
    before = cart.get()
    assert len(before["items"]) == 100
    assert_problem(cart.add(skus[100], 1), 422, "too_many_lines")
    assert cart.get() == before
    assert server.levels(skus[100])[env["dc"]]["available"] == 1
    assert server.levels(skus[100])[env["dc"]]["reserved"] == 0
    # Adding more of a line already there is not a new line.
    assert_problem(cart.add(skus[0], 1), 409, "insufficient_stock")
    # Make room and the 101st SKU fits.
    assert cart.call("DELETE", f"/items/{skus[0]}")[0] == 200
    assert server.levels(skus[0])[env["dc"]]["available"] == 1
    cart.add_ok(skus[100], 1)
    assert len(cart.get()["items"]) == 100
    assert server.levels(skus[100])[env["dc"]]["available"] == 0
    server.assert_consistent()


def test_state_is_consistent_after_bad_input(server, env):
    view = env["cart"].get()
    assert [(i["sku"], i["quantity"], i["held"]) for i in view["items"]] == [(env["sku"], 2, 2)]
    level = server.levels(env["sku"])[env["dc"]]
    assert (level["on_hand"], level["reserved"], level["allocated"]) == (50, 2, 0)
    assert_alive(server)
    server.assert_consistent()


# ---- search text is data, never syntax ----

@pytest.mark.parametrize("q", ['%22', "'", "*", "AND", "OR+NOT", "NEAR(a+b)", "a:b", "%5Ex",
                               "%FF%FE", "%C3", "%C3%A9t%C3%A9", "(", ")", "-x", "%00", "a%22b",
                               "abc*", "%7B%7D", "a+" * 100, "%E2%80%AE", "%F0%9F%98%80"])
def test_search_with_odd_text_never_fails(server, env, q):
    status, headers, body = server.req("GET", f"/api/v1/products?q={q}")
    assert status == 200, body
    assert isinstance(body["items"], list)


def test_mixed_currency_cart_is_refused_cleanly(server, env):
    sku = unique("SGD-")
    server.product([sku], price=1000, currency="SGD")
    server.receive(sku, env["dc"], 5)
    before = snapshot(server, env)
    status, headers, body = env["cart"].add(sku, 1)
    assert 400 <= status < 500, body
    assert_problem((status, headers, body), status)
    assert snapshot(server, env) == before
    assert server.levels(sku)[env["dc"]]["reserved"] == 0
    # A cart of its own currency is fine.
    server.new_cart().add_ok(sku, 1)
