"""Tests of the card payment provider simulator (tools/payment_provider.py), without Tandem.

Each test starts the simulator on a free port and a webhook receiver in this process, then talks
to the simulator over HTTP as Tandem and a shopper's browser would. The receiver checks each
event's Stripe-Signature with its own HMAC code, independent of the simulator's.

Run:  /usr/bin/python3 -m pytest tests/tools -q
"""

import hashlib
import hmac
import http.client
import http.server
import json
import os
import select
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

SIMULATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools",
                         "payment_provider.py")
SECRET_KEY = "sk_test_simulator_tests"
WEBHOOK_SECRET = "whsec_simulator_tests"
SUCCESS_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000000000000002"
START_TIMEOUT = 10  # seconds until the listening line
REQUEST_TIMEOUT = 10
TOLERANCE = 300  # seconds, Stripe's default replay window


def verify_signature(header, body, secret, now=None):
    """Stripe's scheme, written again here: t=<ts>,v1=<hex hmac-sha256(secret, "<ts>." + body)>."""
    if not header:
        return False
    items = [item.split("=", 1) for item in header.split(",")]
    if any(len(item) != 2 for item in items):
        return False
    stamps = [v for k, v in items if k == "t"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    expected = hmac.new(secret.encode(), stamps[0].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(v, expected) for k, v in items if k == "v1"):
        return False
    return abs((now or time.time()) - int(stamps[0])) <= TOLERANCE


class Receiver:
    """Tandem's webhook endpoint, played by the test: records every delivery and answers 401 to
    a bad signature, else the next status of `statuses` (then 200)."""

    def __init__(self):
        self.deliveries = []  # dicts: headers, body, event, valid, answered
        self.statuses = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                valid = verify_signature(self.headers.get("Stripe-Signature"), body,
                                         WEBHOOK_SECRET)
                with receiver.lock:
                    status = 401 if not valid else \
                        (receiver.statuses.pop(0) if receiver.statuses else 200)
                    receiver.deliveries.append({
                        "path": self.path, "headers": dict(self.headers), "body": body,
                        "event": json.loads(body), "valid": valid, "answered": status,
                        "at": time.monotonic()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v1/webhooks/payments"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self):
        with self.lock:
            return [d["event"] for d in self.deliveries]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Simulator:
    def __init__(self, webhook_url, extra=()):
        self.proc = subprocess.Popen(
            [sys.executable, SIMULATOR, "--port", "0", "--secret-key", SECRET_KEY,
             "--webhook-url", webhook_url, "--webhook-secret", WEBHOOK_SECRET, "--tick-ms", "100",
             *extra],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        ready, _, _ = select.select([self.proc.stdout], [], [], START_TIMEOUT)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("listening on http://127.0.0.1:"):
            self.proc.kill()
            raise RuntimeError(f"simulator did not start: {line!r}")
        self.base = line.split()[-1]
        self.port = int(self.base.rsplit(":", 1)[1])

    def request(self, method, path, body=None, headers=None, form=None, key=SECRET_KEY):
        """-> (status, headers, body parsed as JSON when it is JSON, else text)."""
        headers = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if key is not None and path.startswith("/v1/"):
            headers["Authorization"] = f"Bearer {key}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            ctype = resp.getheader("Content-Type", "")
            parsed = json.loads(raw) if ctype.startswith("application/json") else raw.decode()
            return resp.status, dict(resp.getheaders()), parsed
        finally:
            conn.close()

    def config(self, **settings):
        status, _, body = self.request("POST", "/sim/config", body=settings)
        assert status == 200, body
        return body

    def drain(self):
        status, _, body = self.request("POST", "/sim/drain", body={"timeout_ms": 20_000})
        assert status == 200 and body["idle"], body
        return body

    def create_session(self, amount=12345, key=None, **overrides):
        form = session_form(amount, **overrides)
        headers = {"Idempotency-Key": key} if key else {}
        status, _, body = self.request("POST", "/v1/checkout/sessions", form=form, headers=headers)
        assert status == 200, body
        return body

    def pay(self, session_id, card=SUCCESS_CARD):
        return self.request("POST", f"/sim/pay/{session_id}", body={"card": card})

    def events(self):
        status, _, body = self.request("GET", "/sim/events")
        assert status == 200
        return body["data"]

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


def session_form(amount=12345, **overrides):
    form = {
        "mode": "payment",
        "line_items[0][price_data][currency]": "myr",
        "line_items[0][price_data][unit_amount]": str(amount),
        "line_items[0][price_data][product_data][name]": "Order TD-2026-000042",
        "line_items[0][quantity]": "1",
        "success_url": "http://127.0.0.1:9/orders/42/paid?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:9/orders/42/cancelled",
        "client_reference_id": "42",
        "metadata[order_id]": "42",
        "metadata[order_number]": "TD-2026-000042",
        "customer_email": "shopper@example.com",
        "expires_at": str(int(time.time()) + 1800),
    }
    form.update(overrides)
    return form


def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def sim(receiver):
    s = Simulator(receiver.url)
    yield s
    s.close()


def test_a_paid_session_sends_one_correctly_signed_completed_event(sim, receiver):
    session = sim.create_session()
    assert session["id"].startswith("cs_test_")
    assert session["object"] == "checkout.session"
    assert session["url"] == f"{sim.base}/pay/{session['id']}"
    assert (session["status"], session["payment_status"]) == ("open", "unpaid")
    assert session["amount_total"] == 12345 and session["currency"] == "myr"
    assert session["client_reference_id"] == "42"
    assert session["metadata"] == {"order_id": "42", "order_number": "TD-2026-000042"}

    # The shopper's browser: the page has a card form; paying redirects to success_url.
    path = urllib.parse.urlsplit(session["url"]).path
    status, _, page = sim.request("GET", path)
    assert status == 200
    for needle in ('name="card_number"', 'name="exp"', 'name="cvc"', "MYR 123.45",
                   'href="http://127.0.0.1:9/orders/42/cancelled"'):
        assert needle in page
    status, headers, _ = sim.request("POST", path, form={"card_number": SUCCESS_CARD,
                                                         "exp": "12 / 34", "cvc": "123"})
    assert status == 303
    assert headers["Location"] == f"http://127.0.0.1:9/orders/42/paid?session={session['id']}"

    sim.drain()
    assert len(receiver.deliveries) == 1
    delivery = receiver.deliveries[0]
    assert delivery["path"] == "/api/v1/webhooks/payments"
    assert delivery["valid"] and delivery["answered"] == 200
    assert delivery["headers"]["Content-Type"].startswith("application/json")
    # The signature covers the body: one byte more and it no longer verifies.
    assert not verify_signature(delivery["headers"]["Stripe-Signature"], delivery["body"] + b" ",
                                WEBHOOK_SECRET)
    assert not verify_signature(delivery["headers"]["Stripe-Signature"], delivery["body"],
                                "whsec_other")
    event = delivery["event"]
    assert event["id"].startswith("evt_") and event["object"] == "event"
    assert event["type"] == "checkout.session.completed"
    assert event["api_version"] == "2024-06-20"
    paid = event["data"]["object"]
    assert paid["id"] == session["id"]
    assert (paid["status"], paid["payment_status"]) == ("complete", "paid")
    assert paid["payment_intent"].startswith("pi_")
    assert paid["amount_total"] == 12345 and paid["metadata"]["order_id"] == "42"

    status, _, retrieved = sim.request("GET", f"/v1/checkout/sessions/{session['id']}")
    assert status == 200 and retrieved["status"] == "complete"
    assert retrieved["payment_intent"] == paid["payment_intent"]
    # A paid page cannot be paid again, and nothing more is sent.
    status, _, page = sim.request("POST", path, form={"card_number": SUCCESS_CARD})
    assert status == 410 and "already paid" in page
    sim.drain()
    assert len(receiver.deliveries) == 1


def test_a_declined_card_keeps_the_session_open_and_sends_nothing(sim, receiver):
    session = sim.create_session()
    path = f"/pay/{session['id']}"
    status, _, page = sim.request("POST", path, form={"card_number": DECLINED_CARD})
    assert status == 402 and "Your card was declined" in page
    assert 'name="card_number"' in page  # the shopper may try another card
    status, _, body = sim.pay(session["id"], DECLINED_CARD)
    assert status == 402 and body["error"]["code"] == "card_declined"
    status, _, body = sim.pay(session["id"], "1234 5678 9012 3456")
    assert status == 402 and body["error"]["code"] == "incorrect_number"
    status, _, retrieved = sim.request("GET", f"/v1/checkout/sessions/{session['id']}")
    assert (retrieved["status"], retrieved["payment_status"]) == ("open", "unpaid")
    sim.drain()
    assert receiver.deliveries == [] and sim.events() == []
    # Then a good card pays.
    status, _, body = sim.pay(session["id"])
    assert status == 200 and body["session"]["payment_status"] == "paid"
    sim.drain()
    assert [e["type"] for e in receiver.events()] == ["checkout.session.completed"]


def test_duplicate_delivers_each_event_again_under_the_same_id(sim, receiver):
    sim.config(duplicate=2)
    session = sim.create_session()
    assert sim.pay(session["id"])[0] == 200
    sim.drain()
    events = receiver.events()
    assert len(events) == 3 and all(d["valid"] for d in receiver.deliveries)
    assert len({e["id"] for e in events}) == 1
    [listed] = sim.events()
    assert sorted(d["copy"] for d in listed["deliveries"]) == [0, 1, 2]


def test_held_events_are_released_in_reverse_or_in_order(sim, receiver):
    sim.config(hold=True)
    first, second = sim.create_session(), sim.create_session()
    assert sim.pay(first["id"])[0] == 200
    assert sim.pay(second["id"])[0] == 200
    status, _, body = sim.request("POST", f"/v1/checkout/sessions/{first['id']}/expire")
    assert status == 400  # a paid session cannot be expired
    sim.drain()
    assert receiver.deliveries == []
    assert [e["held"] for e in sim.events()] == [True, True]

    status, _, body = sim.request("POST", "/sim/release", body={"order": "reverse"})
    assert status == 200 and body == {"released": 2}
    sim.drain()
    assert [e["data"]["object"]["id"] for e in receiver.events()] == [second["id"], first["id"]]

    third, fourth = sim.create_session(), sim.create_session()
    sim.pay(third["id"])
    sim.pay(fourth["id"])
    sim.config(hold=False)
    sim.drain()
    assert len(receiver.deliveries) == 2  # still held until released
    assert sim.request("POST", "/sim/release", body={"order": "fifo"})[2] == {"released": 2}
    sim.drain()
    assert [e["data"]["object"]["id"] for e in receiver.events()[2:]] == [third["id"], fourth["id"]]
    assert sim.request("POST", "/sim/release", body={"order": "sideways"})[0] == 400


def test_delay_holds_back_the_first_delivery(sim, receiver):
    sim.config(delay_ms=600)
    session = sim.create_session()
    paid_at = time.monotonic()
    assert sim.pay(session["id"])[0] == 200
    time.sleep(0.2)
    assert receiver.deliveries == []
    sim.drain()
    assert len(receiver.deliveries) == 1
    assert receiver.deliveries[0]["at"] - paid_at >= 0.55


def test_a_failed_delivery_is_retried_a_bounded_number_of_times(sim, receiver):
    sim.config(max_attempts=3, backoff_ms=10)
    receiver.statuses = [500, 503]
    session = sim.create_session()
    sim.pay(session["id"])
    sim.drain()
    assert [d["answered"] for d in receiver.deliveries] == [500, 503, 200]
    assert [d["status"] for d in sim.events()[0]["deliveries"]] == [500, 503, 200]

    receiver.statuses = [500] * 10
    second = sim.create_session()
    sim.pay(second["id"])
    sim.drain()
    attempts = sim.events()[1]["deliveries"]
    assert [d["attempt"] for d in attempts] == [1, 2, 3]  # then it gives up
    assert len(receiver.deliveries) == 6

    # Resending delivers the same event once more.
    receiver.statuses = []
    event_id = sim.events()[1]["id"]
    status, _, _ = sim.request("POST", f"/sim/events/{event_id}/resend")
    assert status == 200
    sim.drain()
    assert receiver.deliveries[-1]["event"]["id"] == event_id
    assert receiver.deliveries[-1]["answered"] == 200
    assert sim.request("POST", "/sim/events/evt_nope/resend")[0] == 404


def test_an_unreachable_receiver_is_tried_a_bounded_number_of_times(receiver):
    s = Simulator("http://127.0.0.1:9/api/v1/webhooks/payments")  # the discard port: refused
    try:
        s.config(max_attempts=2, backoff_ms=10)
        session = s.create_session()
        s.pay(session["id"])
        s.drain()
        [event] = s.events()
        assert [d["status"] for d in event["deliveries"]] == [None, None]
        assert all(d["error"] for d in event["deliveries"])
    finally:
        s.close()


@pytest.mark.parametrize("how", ["wrong_secret", "stale", "future", "tampered", "missing"])
def test_forged_events_carry_a_signature_that_fails_verification(sim, receiver, how):
    session = sim.create_session()
    status, _, body = sim.request("POST", "/sim/forge",
                                  body={"session_id": session["id"], "signature": how,
                                        "type": "checkout.session.completed"})
    assert status == 200, body
    assert body["status"] == 401  # the receiver refused it
    [delivery] = receiver.deliveries
    assert not delivery["valid"]
    assert delivery["event"]["type"] == "checkout.session.completed"
    # The session was not paid by it, and the control API says which event was forged.
    assert sim.request("GET", f"/v1/checkout/sessions/{session['id']}")[2]["status"] == "open"
    [listed] = sim.events()
    assert listed["forged"] and listed["deliveries"][0]["forged"] == how


def test_refunds_up_to_the_captured_amount(sim, receiver):
    session = sim.create_session(amount=10000)
    status, _, body = sim.request("POST", "/v1/refunds",
                                  form={"payment_intent": "pi_unknown", "amount": "100"})
    assert status == 400 and body["error"]["code"] == "resource_missing"
    pi = sim.pay(session["id"])[2]["session"]["payment_intent"]
    status, _, refund = sim.request("POST", "/v1/refunds",
                                    form={"payment_intent": pi, "amount": "4000"})
    assert status == 200, refund
    assert refund["id"].startswith("re_") and refund["object"] == "refund"
    assert (refund["amount"], refund["currency"], refund["status"]) == (4000, "myr", "succeeded")
    assert refund["payment_intent"] == pi
    status, _, body = sim.request("POST", "/v1/refunds",
                                  form={"payment_intent": pi, "amount": "6001"})
    assert status == 400 and body["error"]["code"] == "amount_too_large"
    assert body["error"]["type"] == "invalid_request_error"
    status, _, body = sim.request("POST", "/v1/refunds", form={"payment_intent": pi, "amount": "0"})
    assert status == 400
    status, _, refund = sim.request("POST", "/v1/refunds",
                                    form={"payment_intent": pi, "amount": "6000"})
    assert status == 200 and refund["amount"] == 6000
    status, _, body = sim.request("POST", "/v1/refunds", form={"payment_intent": pi, "amount": "1"})
    assert status == 400 and body["error"]["code"] == "charge_already_refunded"


def test_an_idempotency_key_gives_the_same_answer_for_the_same_request(sim, receiver):
    expires_at = str(int(time.time()) + 1800)
    first = sim.create_session(key="order-42-attempt-1", expires_at=expires_at)
    status, headers, again = sim.request("POST", "/v1/checkout/sessions",
                                         form=session_form(expires_at=expires_at),
                                         headers={"Idempotency-Key": "order-42-attempt-1"})
    assert status == 200 and again == first
    assert headers.get("Idempotent-Replayed") == "true"
    status, _, body = sim.request("POST", "/v1/checkout/sessions",
                                  form=session_form(amount=999, expires_at=expires_at),
                                  headers={"Idempotency-Key": "order-42-attempt-1"})
    assert status == 400 and body["error"]["type"] == "idempotency_error"
    other = sim.create_session(key="order-42-attempt-2")
    assert other["id"] != first["id"]
    assert sim.create_session()["id"] != first["id"]  # no key, a new session


def test_the_idempotency_key_replays_refunds_too(sim, receiver):
    session = sim.create_session(amount=5000)
    pi = sim.pay(session["id"])[2]["session"]["payment_intent"]
    form = {"payment_intent": pi, "amount": "3000"}
    answers = [sim.request("POST", "/v1/refunds", form=form, headers={"Idempotency-Key": "r1"})
               for _ in range(3)]
    assert {a[0] for a in answers} == {200}
    assert len({a[2]["id"] for a in answers}) == 1
    # Only one refund was made: 2000 are left.
    status, _, body = sim.request("POST", "/v1/refunds",
                                  form={"payment_intent": pi, "amount": "2001"})
    assert status == 400 and body["error"]["code"] == "amount_too_large"


def test_a_session_expires_at_its_time_and_says_so(sim, receiver):
    session = sim.create_session(expires_at=str(int(time.time()) + 2))
    assert wait_for(lambda: sim.events(), timeout=5)
    sim.drain()
    [event] = receiver.events()
    assert event["type"] == "checkout.session.expired"
    expired = event["data"]["object"]
    assert expired["id"] == session["id"] and expired["status"] == "expired"
    assert expired["url"] is None
    status, _, page = sim.request("GET", f"/pay/{session['id']}")
    assert status == 410 and "expired" in page
    status, _, body = sim.pay(session["id"])
    assert status == 409 and body["session"]["status"] == "expired"
    sim.drain()
    assert len(receiver.deliveries) == 1


def test_expire_ends_an_open_session_once(sim, receiver):
    session = sim.create_session()
    status, _, body = sim.request("POST", f"/v1/checkout/sessions/{session['id']}/expire")
    assert status == 200 and body["status"] == "expired"
    status, _, body = sim.request("POST", f"/v1/checkout/sessions/{session['id']}/expire")
    assert status == 400
    sim.drain()
    assert [e["type"] for e in receiver.events()] == ["checkout.session.expired"]


def test_the_api_wants_the_secret_key_and_complete_requests(sim, receiver):
    status, _, body = sim.request("POST", "/v1/checkout/sessions", form=session_form(), key=None)
    assert status == 401 and body["error"]["type"] == "invalid_request_error"
    status, _, body = sim.request("POST", "/v1/checkout/sessions", form=session_form(),
                                  key="sk_test_wrong")
    assert status == 401
    assert sim.request("GET", "/v1/checkout/sessions/cs_test_nope")[0] == 404
    for missing in ("success_url", "mode", "line_items[0][price_data][currency]",
                    "line_items[0][price_data][unit_amount]",
                    "line_items[0][price_data][product_data][name]", "line_items[0][quantity]"):
        form = session_form()
        del form[missing]
        status, _, body = sim.request("POST", "/v1/checkout/sessions", form=form)
        assert status == 400, missing
        assert body["error"]["type"] == "invalid_request_error"
        assert missing in body["error"]["message"], body
    bad = {"metdata[order_id]": "1", "expires_at": str(int(time.time()) - 1),
           "customer_email": "not-an-address", "success_url": "javascript:alert(1)",
           "line_items[0][price_data][unit_amount]": "12.50", "mode": "subscription"}
    for name, value in bad.items():
        form = session_form()
        form[name] = value
        status, _, body = sim.request("POST", "/v1/checkout/sessions", form=form)
        assert status == 400 and body["error"]["message"], (name, body)
    assert sim.events() == []


def test_fail_api_answers_500_for_the_next_requests_only(sim, receiver):
    sim.config(fail_api=2)
    for _ in range(2):
        status, _, body = sim.request("POST", "/v1/checkout/sessions", form=session_form())
        assert status == 500 and body["error"]["type"] == "api_error"
    assert sim.create_session()["id"].startswith("cs_test_")


def test_the_control_api_refuses_settings_out_of_bounds(sim, receiver):
    for settings in ({"duplicate": 11}, {"duplicate": -1}, {"delay_ms": 60_001}, {"hold": 1},
                     {"max_attempts": 0}, {"nonsense": 1}, {"webhook_url": "ftp://x"}):
        status, _, _ = sim.request("POST", "/sim/config", body=settings)
        assert status == 400, settings
    status, _, config = sim.request("GET", "/sim/config")
    assert config["duplicate"] == 0 and config["hold"] is False
