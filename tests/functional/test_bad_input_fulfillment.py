"""Bad input on the payment, refund, shipment and webhook routes: a problem+json answer with a
stable code, nothing changed, the server still up."""

import hashlib
import hmac
import json
import time

import pytest

from conftest import ADDRESS, assert_problem, unique

CARRIER_SECRET = "carrier-secret-bad-input"
CARD_SECRET = "whsec_bad_input"


def sign(secret, body):
    t = int(time.time())
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@pytest.fixture(scope="module")
def env(server_factory):
    s = server_factory(extra_args=("--carrier-webhook-secret", CARRIER_SECRET,
                                   "--card-webhook-secret", CARD_SECRET))
    dc = s.location(kind="distribution_centre", ships=True, pickup=False)
    sku = s.seed({dc: 50})
    cart = s.new_cart()
    cart.add_ok(sku, 1)
    bank = cart.checkout({"payment_method": "bank_transfer", "address": ADDRESS,
                          "email": f"{unique('bad')}@example.com", "name": "Bad Input"})[2]
    payment = s.ok("POST", f"/api/v1/orders/{bank['id']}/payments", status=201,
                   json={"method": "bank_transfer", "amount": 100}, token=s.token("admin"))
    cod = s.order(sku, 1)
    s.ok("POST", f"/api/v1/orders/{cod['id']}/transitions", json={"to": "processing"},
         token=s.token("admin"))
    [shipment] = s.shipments(cod["id"])
    return {"s": s, "dc": dc, "sku": sku, "bank": bank, "payment": payment, "cod": cod,
            "shipment": shipment}


def state(env):
    s = env["s"]
    return (s.ok("GET", f"/api/v1/orders/{env['bank']['id']}/payments",
                 token=s.token("admin")),
            s.get_order(env["bank"]["id"])["status"], s.shipments(env["cod"]["id"]),
            s.ok("GET", f"/api/v1/orders/{env['bank']['id']}/invoices", token=s.token("admin")))


LONG = "x" * 10_001

CASES = [
    # route ({names} filled in from env), body (dict, or bytes sent raw), status, code
    ("POST /orders/{bank}/payments", b"not json", 400, "malformed_json"),
    ("POST /orders/{bank}/payments", b"[1]", 422, "validation_failed"),
    ("POST /orders/{bank}/payments", {}, 422, "validation_failed"),
    ("POST /orders/{bank}/payments", {"method": 5}, 422, "validation_failed"),
    ("POST /orders/{bank}/payments", {"method": "bitcoin"}, 422, "validation_failed"),
    ("POST /orders/{bank}/payments", {"method": "cash_on_delivery"}, 422, "validation_failed"),
    ("POST /orders/{bank}/payments", {"method": "bank_transfer", "amount": "10"}, 422,
     "validation_failed"),
    ("POST /orders/{bank}/payments", {"method": "bank_transfer", "amount": 0}, 422,
     "validation_failed"),
    ("POST /orders/{bank}/payments", {"method": "bank_transfer", "amount": 10**12}, 422,
     "validation_failed"),
    ("POST /orders/{bank}/payments", {"method": "bank_transfer", "reference": LONG}, 422,
     "validation_failed"),
    ("POST /orders/999999999/payments", {"method": "bank_transfer"}, 404, "not_found"),
    ("POST /orders/abc/payments", {"method": "bank_transfer"}, 404, "not_found"),
    ("POST /orders/{bank}/payments/999999999/verify", {}, 404, "not_found"),
    ("POST /orders/{cod}/payments/{payment}/verify", {}, 404, "not_found"),
    ("POST /orders/{bank}/payments/{payment}/verify", b"[]", 422, "validation_failed"),
    ("POST /orders/{bank}/payments/{payment}/reject", {}, 422, "validation_failed"),
    ("POST /orders/{bank}/payments/{payment}/reject", {"reason": 5}, 422, "validation_failed"),
    ("POST /orders/{bank}/payments/{payment}/reject", {"reason": LONG}, 422,
     "validation_failed"),
    ("POST /orders/{bank}/refunds", {"amount": 1}, 422, "validation_failed"),
    ("POST /orders/{bank}/refunds", {"reason": "x"}, 422, "validation_failed"),
    ("POST /orders/{bank}/refunds", {"amount": "1", "reason": "x"}, 422, "validation_failed"),
    ("POST /orders/{bank}/refunds", {"amount": 1, "reason": "nothing was paid"}, 422,
     "validation_failed"),
    ("POST /orders/999999999/refunds", {"amount": 1, "reason": "x"}, 404, "not_found"),
    ("POST /shipments/{shipment}/scans", {}, 422, "validation_failed"),
    ("POST /shipments/{shipment}/scans", {"code": 5}, 422, "validation_failed"),
    ("POST /shipments/{shipment}/scans", {"code": "9" * 65}, 422, "validation_failed"),
    ("POST /shipments/{shipment}/scans", {"code": "NOT-IN-IT"}, 409, "wrong_item"),
    ("POST /shipments/999999999/scans", {"code": "X"}, 404, "not_found"),
    ("POST /shipments/{shipment}/ship", {}, 422, "validation_failed"),
    ("POST /shipments/{shipment}/ship", {"carrier": "PosLaju"}, 422, "validation_failed"),
    ("POST /shipments/{shipment}/ship", {"carrier": "PosLaju", "tracking_number": "T1"}, 409,
     "invalid_transition"),
    ("POST /shipments/{shipment}/handover", {}, 422, "validation_failed"),
    ("POST /shipments/{shipment}/handover", {"code": "ABCDEFGH"}, 409, "invalid_transition"),
    ("POST /shipments/abc/handover", {"code": "ABCDEFGH"}, 404, "not_found"),
    ("GET /locations/{dc}/pick-list?orders=a,b", None, 422, "validation_failed"),
    ("GET /locations/{dc}/pick-list?format=xml", None, 422, "validation_failed"),
    ("GET /locations/999999999/pick-list", None, 404, "not_found"),
    ("GET /orders/{bank}/documents/999999999", None, 404, "not_found"),
    ("GET /orders/{bank}/invoice.pdf", None, 404, "not_found"),
]


@pytest.mark.parametrize("route,body,status,code",
                         [pytest.param(r, b, s, c, id=f"{r} {str(b)[:40]}")
                          for r, b, s, c in CASES])
def test_refused_and_nothing_changes(env, route, body, status, code):
    s = env["s"]
    method, path = route.split(" ", 1)
    path = "/api/v1" + path.format(bank=env["bank"]["id"], cod=env["cod"]["id"],
                                   payment=env["payment"]["id"], dc=env["dc"],
                                   shipment=env["shipment"]["id"])
    before = state(env)
    if isinstance(body, bytes):
        resp = s.req(method, path, raw_body=body, token=s.token("admin"))
    else:
        resp = s.req(method, path, json=body, token=s.token("admin"))
    assert_problem(resp, status, code)
    assert state(env) == before
    assert s.ok("GET", "/healthz") == {"status": "ok"}


def signed(env, path, header, secret, body):
    return env["s"].req("POST", path, raw_body=body, headers={header: sign(secret, body)})


@pytest.mark.parametrize("payload,status,code", [
    (b"not json", 400, "malformed_json"),
    (b"{}", 422, "validation_failed"),
    (json.dumps({"event_id": "e1", "tracking_number": "T"}).encode(), 422, "validation_failed"),
    (json.dumps({"event_id": "e1", "tracking_number": "T", "status": "teleported"}).encode(), 422,
     "validation_failed"),
    (json.dumps({"event_id": "e1", "tracking_number": "T", "status": "open"}).encode(), 422,
     "validation_failed"),
    (json.dumps({"event_id": "e1", "tracking_number": "NO-SUCH", "status": "delivered"}).encode(),
     404, "not_found"),
])
def test_carrier_webhook_refuses_bad_bodies(env, payload, status, code):
    before = state(env)
    resp = signed(env, "/api/v1/webhooks/carrier", "X-Carrier-Signature", CARRIER_SECRET,
                  payload)
    assert_problem(resp, status, code)
    assert state(env) == before


@pytest.mark.parametrize("payload,status,code", [
    (b"not json", 400, "malformed_json"),
    (b"{}", 422, "validation_failed"),
    (json.dumps({"id": "evt_1", "type": "checkout.session.completed"}).encode(), 422,
     "validation_failed"),
    (json.dumps({"id": "evt_1", "type": "checkout.session.completed",
                 "data": {"object": {}}}).encode(), 422, "validation_failed"),
])
def test_payment_webhook_refuses_bad_bodies(env, payload, status, code):
    before = state(env)
    resp = signed(env, "/api/v1/webhooks/payments", "Stripe-Signature", CARD_SECRET, payload)
    assert_problem(resp, status, code)
    assert state(env) == before
    # Unsigned or badly signed: 401 whatever the body.
    assert_problem(env["s"].req("POST", "/api/v1/webhooks/payments", raw_body=payload,
                                headers={"Stripe-Signature": "t=1,v1=00"}), 401, "unauthorized")
