"""Flash sale: many shoppers at once on one SKU. Never sell a unit twice (§I1), never lose count
(§I2), one effect per Idempotency-Key (§I4)."""

import collections
import http.client
import json
import threading
import time

import pytest

from conftest import ADDRESS, REQUEST_TIMEOUT, unique

SHOPPERS = 300
STOCK = {"first": 30, "second": 20}
DEADLINE = 240  # seconds for the whole stampede


def call(port, method, path, body=None, headers=None):
    """One request on a fresh connection; (status, parsed body) or (None, exception text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=h)
        resp = conn.getresponse()
        data = resp.read()
        try:
            return resp.status, json.loads(data)
        except ValueError:
            return resp.status, data.decode("utf-8", "replace")
    except Exception as e:  # noqa: BLE001 - recorded and asserted on by the caller
        return None, f"{type(e).__name__}: {e}"
    finally:
        conn.close()


def run_threads(n, target):
    """Starts n threads that wait on one barrier, then run target(i); returns their results."""
    results = [None] * n
    barrier = threading.Barrier(n)

    def worker(i):
        try:
            barrier.wait(timeout=60)
        except threading.BrokenBarrierError:
            pass
        results[i] = target(i)
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    end = time.monotonic() + DEADLINE
    for t in threads:
        t.join(timeout=max(0.1, end - time.monotonic()))
    stuck = sum(t.is_alive() for t in threads)
    assert stuck == 0, f"{stuck} shopper(s) still waiting after {DEADLINE}s"
    return results


@pytest.fixture(scope="module")
def sale(server):
    first = server.location(kind="distribution_centre", ships=True, pickup=False)
    second = server.location(kind="store", ships=True, pickup=True)
    sku = server.seed({first: STOCK["first"], second: STOCK["second"]}, price=9900)
    return {"sku": sku, "locations": (first, second)}


def test_flash_sale_never_oversells(server, sale):
    sku = sale["sku"]
    port = server.port

    def shopper(i):
        steps = []
        status, cart = call(port, "POST", "/api/v1/carts")
        steps.append(("cart", status, cart))
        if status != 201:
            return steps
        headers = {"X-Cart-Token": cart["token"]}
        status, body = call(port, "POST", f"/api/v1/carts/{cart['id']}/items",
                            {"sku": sku, "quantity": 1}, headers)
        steps.append(("add", status, body))
        if status != 201:
            return steps
        status, body = call(port, "POST", f"/api/v1/carts/{cart['id']}/checkout",
                            {"payment_method": "cash_on_delivery", "address": ADDRESS,
                             "email": f"flash{i}-{unique()}@example.com", "name": f"Flash {i}"},
                            headers)
        steps.append(("checkout", status, body))
        return steps

    started = time.monotonic()
    results = run_threads(SHOPPERS, shopper)
    elapsed = time.monotonic() - started

    outcomes = collections.Counter()
    orders = []
    for steps in results:
        last = steps[-1]
        outcomes[(last[0], last[1], last[2].get("code") if isinstance(last[2], dict) else None)] += 1
        if last[0] == "checkout" and last[1] == 201:
            orders.append(last[2])
    errors = [s for steps in results for s in steps if s[1] is None or s[1] >= 500]
    assert not errors, f"transport errors or 5xx: {errors[:5]}"
    total = sum(STOCK.values())
    assert outcomes[("checkout", 201, None)] == total, outcomes
    assert outcomes[("add", 409, "insufficient_stock")] == SHOPPERS - total, outcomes
    assert sum(outcomes.values()) == SHOPPERS
    assert len({o["id"] for o in orders}) == total
    assert len({o["number"] for o in orders}) == total
    assert len({o["tracking_code"] for o in orders}) == total

    levels = server.levels(sku)
    for loc in sale["locations"]:
        assert levels[loc]["available"] == 0, levels
        assert levels[loc]["reserved"] == 0, levels
    assert sorted(levels[loc]["allocated"] for loc in sale["locations"]) == \
        sorted(STOCK.values())
    # The shop window agrees.
    product = server.ok("GET", f"/api/v1/products?q={sku}")["items"]
    variant = [v for p in product for v in p["variants"] if v["sku"] == sku][0]
    assert variant["available_online"] == 0
    # And the next shopper is told so.
    cart = server.new_cart()
    status, _, body = cart.add(sku, 1)
    assert status == 409 and body["code"] == "insufficient_stock"
    server.assert_consistent()
    print(f"{SHOPPERS} shoppers in {elapsed:.1f}s")


def test_same_idempotency_key_from_many_threads_makes_one_order(server, sale):
    first, _ = sale["locations"]
    sku = server.seed({first: 10})
    cart = server.new_cart()
    cart.add_ok(sku, 2)
    body = {"payment_method": "cash_on_delivery", "address": ADDRESS,
            "email": f"{unique('retry')}@example.com"}
    key = unique("double-click-")
    headers = {"X-Cart-Token": cart.cart_token, "Idempotency-Key": key}
    results = run_threads(20, lambda i: call(server.port, "POST",
                                             f"/api/v1/carts/{cart.id}/checkout", body, headers))
    statuses = collections.Counter(r[0] for r in results)
    assert statuses == {201: 20}, results[:3]
    assert len({r[1]["id"] for r in results}) == 1
    assert server.total(sku, "allocated") == 2
    assert server.total(sku) == 8
    server.assert_consistent()


def test_concurrent_transitions_apply_once(server, sale):
    first, _ = sale["locations"]
    sku = server.seed({first: 5})
    order = server.order(sku, 1)
    token = server.token("ops")
    results = run_threads(12, lambda i: call(
        server.port, "POST", f"/api/v1/orders/{order['id']}/transitions", {"to": "processing"},
        {"Authorization": f"Bearer {token}"}))
    statuses = collections.Counter(r[0] for r in results)
    assert statuses[200] == 1, results
    assert statuses[409] == 11, results
    assert all(r[1]["code"] == "invalid_transition" for r in results if r[0] == 409)
    timeline = server.get_order(order["id"])["timeline"]
    assert [e["to"] for e in timeline if e["to"]] == ["pending_payment", "processing"]


def test_concurrent_cancel_and_ship_release_or_ship_once(server, sale):
    """Staff cancel while another ships: exactly one wins and the stock adds up."""
    first, _ = sale["locations"]
    sku = server.seed({first: 4})
    order = server.order(sku, 4)
    assert server.transition(order["id"], "processing")[0] == 200
    [packed] = server.pack(order["id"])
    ops, admin = server.token("ops"), server.token("admin")

    def act(i):
        if i % 2:
            return call(server.port, "POST", f"/api/v1/orders/{order['id']}/cancel", {},
                        {"Authorization": f"Bearer {admin}"})
        return call(server.port, "POST", f"/api/v1/shipments/{packed['id']}/ship",
                    {"carrier": "PosLaju", "tracking_number": f"PL{i}"},
                    {"Authorization": f"Bearer {ops}"})
    results = run_threads(10, act)
    assert sum(r[0] == 200 for r in results) == 1, results
    assert all(r[0] in (200, 409) for r in results), results
    final = server.get_order(order["id"])["status"]
    level = server.levels(sku)[first]
    if final == "shipped":
        assert (level["on_hand"], level["allocated"], level["available"]) == (0, 0, 0)
    else:
        assert final == "cancelled"
        assert (level["on_hand"], level["allocated"], level["available"]) == (4, 0, 4)
    server.assert_consistent()
