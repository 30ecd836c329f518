"""Card payments through the provider simulator (tools/payment_provider.py, Stripe's protocol):
a hosted page, signed webhooks repeated, held, reordered, late and forged; each event applied once.
"""

import json as jsonlib
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import ADDRESS, assert_problem, unique

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIM = os.path.join(ROOT, "tools", "payment_provider.py")
SECRET_KEY = "sk_test_functional"
WEBHOOK_SECRET = "whsec_functional"


class Sim:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, SIM, "--port", "0", "--secret-key", SECRET_KEY,
             "--webhook-secret", WEBHOOK_SECRET, "--tick-ms", "100"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.url = line.split()[-1]

    def call(self, method, path, body=None):
        data = None if body is None else jsonlib.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, jsonlib.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, jsonlib.loads(e.read() or b"{}")

    def drain(self):
        assert self.call("POST", "/sim/drain", {"timeout_ms": 20000})[0] == 200

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def setup(server_factory):
    sim = Sim()
    s = server_factory(extra_args=("--card-provider-url", sim.url,
                                   "--card-secret-key", SECRET_KEY,
                                   "--card-webhook-secret", WEBHOOK_SECRET))
    assert sim.call("POST", "/sim/config",
                    {"webhook_url": f"http://127.0.0.1:{s.port}/api/v1/webhooks/payments"})[0] == 200
    yield s, sim
    sim.stop()


def card_order(s, sku):
    cart = s.new_cart()
    cart.add_ok(sku, 1)
    resp = cart.checkout({"payment_method": "card", "email": f"{unique('card')}@example.com",
                          "name": "Card Holder", "address": ADDRESS})
    assert resp[0] == 201, resp
    order = resp[2]
    link = f"?token={order['access_token']}"
    pay = s.ok("POST", f"/api/v1/orders/{order['id']}/payments{link}", status=201,
               json={"method": "card"})
    assert pay["redirect_url"].startswith("http://127.0.0.1:"), pay
    session = pay["redirect_url"].rsplit("/", 1)[-1]
    return order, pay, session, link


def outbox_kinds(s, number):
    items = s.ok("GET", "/api/v1/outbox?limit=100", token=s.token("admin"))["items"]
    return [m["kind"] for m in items if m["reference"] == number]


def test_card_payment_with_repeated_reordered_and_forged_webhooks(setup):
    s, sim = setup
    dc = s.location(kind="distribution_centre", ships=True, pickup=False)
    sku = s.seed({dc: 10})
    order, pay, session, link = card_order(s, sku)
    # The hosted page is the provider's; Tandem never sees the card.
    with urllib.request.urlopen(pay["redirect_url"], timeout=10) as page:
        assert page.status == 200

    # A forged completion is refused and changes nothing.
    forged = sim.call("POST", "/sim/forge", {"session_id": session,
                                            "type": "checkout.session.completed"})
    assert forged[0] == 200 and forged[1].get("status") == 401, forged
    for kind in ("stale", "tampered", "missing"):
        assert sim.call("POST", "/sim/forge", {"session_id": session,
                                               "signature": kind})[1].get("status") == 401
    assert s.get_order(order["id"])["status"] == "pending_payment"

    # A declined card sends nothing; the order waits.
    declined = sim.call("POST", f"/sim/pay/{session}", {"card": "4000000000000002"})
    assert declined[0] == 402
    sim.drain()
    assert s.get_order(order["id"])["status"] == "pending_payment"

    # The good card: its event is held, then delivered three times.
    sim.call("POST", "/sim/config", {"hold": True, "duplicate": 2})
    assert sim.call("POST", f"/sim/pay/{session}", {"card": "4242424242424242"})[0] == 200
    assert s.get_order(order["id"])["status"] == "pending_payment"
    sim.call("POST", "/sim/config", {"hold": False})
    sim.call("POST", "/sim/release", {"order": "reverse"})
    sim.drain()
    sim.call("POST", "/sim/config", {"duplicate": 0})
    paid = s.get_order(order["id"])
    assert paid["status"] == "paid", paid["status"]
    payments = s.ok("GET", f"/api/v1/orders/{order['id']}/payments{link}")["items"]
    assert [p["state"] for p in payments] == ["verified"]
    assert outbox_kinds(s, order["number"]).count("payment_received") == 1
    docs = s.ok("GET", f"/api/v1/orders/{order['id']}/invoices{link}")["items"]
    assert [d["kind"] for d in docs] == ["invoice"]
    # Every delivery was answered 2xx (the repeats too).
    events = sim.call("GET", "/sim/events")[1]["data"]
    real = [d for e in events if session in jsonlib.dumps(e["payload"])
            for d in e["deliveries"] if not d.get("forged")]
    assert len(real) >= 3 and all(d["status"] == 200 for d in real), real
    s.assert_consistent()

    # A refund goes through the provider and gives a credit note.
    refund = s.ok("POST", f"/api/v1/orders/{order['id']}/refunds", status=201,
                  json={"amount": 100, "reason": "goodwill"}, token=s.token("admin"))
    assert refund["credit_note"]["number"].startswith("CN-")


def test_expired_card_session_rejects_the_payment_and_a_late_event_moves_nothing(setup):
    s, sim = setup
    dc = s.location(kind="distribution_centre", ships=True, pickup=False)
    sku = s.seed({dc: 10})
    order, pay, session, link = card_order(s, sku)
    sim.call("POST", "/sim/config", {"hold": True})
    # The provider's API (with the secret key) expires the session; its event is held.
    req = urllib.request.Request(f"{sim.url}/v1/checkout/sessions/{session}/expire",
                                 data=b"", method="POST",
                                 headers={"Authorization": f"Bearer {SECRET_KEY}"})
    try:
        urllib.request.urlopen(req, timeout=10).read()
    except urllib.error.HTTPError:
        pass
    sim.call("POST", "/sim/config", {"hold": False})
    sim.call("POST", "/sim/release", {"order": "fifo"})
    sim.drain()
    payments = s.ok("GET", f"/api/v1/orders/{order['id']}/payments{link}")["items"]
    assert payments[0]["state"] == "rejected", payments
    assert s.get_order(order["id"])["status"] == "pending_payment"
    # Resent late: applied once already, nothing moves.
    events = [e for e in sim.call("GET", "/sim/events")[1]["data"]
              if session in jsonlib.dumps(e)]
    assert events
    sim.call("POST", f"/sim/events/{events[-1]['id']}/resend")
    sim.drain()
    assert s.ok("GET", f"/api/v1/orders/{order['id']}/payments{link}")["items"][0]["state"] \
        == "rejected"
    # Paying again opens a new session.
    again = s.ok("POST", f"/api/v1/orders/{order['id']}/payments{link}", status=201,
                 json={"method": "card"})
    assert again["redirect_url"] != pay["redirect_url"]


def test_card_payment_without_a_provider_is_503(server):
    dc = server.location(kind="distribution_centre", ships=True, pickup=False)
    sku = server.seed({dc: 3})
    cart = server.new_cart()
    cart.add_ok(sku, 1)
    order = cart.checkout({"payment_method": "card", "email": f"{unique('c')}@example.com",
                           "address": ADDRESS})[2]
    resp = server.req("POST", f"/api/v1/orders/{order['id']}/payments?token="
                              f"{order['access_token']}", json={"method": "card"})
    assert_problem(resp, 503, "unavailable")
    body = jsonlib.dumps({"id": "evt_1", "type": "checkout.session.completed",
                          "data": {"object": {"id": "cs_1"}}}).encode()
    assert server.req("POST", "/api/v1/webhooks/payments", raw_body=body,
                      headers={"Stripe-Signature": "t=1,v1=00"})[0] in (401, 503)
