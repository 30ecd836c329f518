#!/usr/bin/env python3
"""Card payment provider simulator for Tandem (issue 20): speaks the protocol of Stripe Checkout.

No machine here reaches the internet, so tests and the demo talk to this instead of Stripe. It
serves, on 127.0.0.1 only:

  Stripe's API (form-encoded requests, `Authorization: Bearer <--secret-key>`, JSON answers,
  Stripe-shaped errors `{"error": {"type", "message", ...}}`, `Idempotency-Key` honoured):
    POST /v1/checkout/sessions               create a checkout session (mode=payment)
    GET  /v1/checkout/sessions/{id}          retrieve it
    POST /v1/checkout/sessions/{id}/expire   expire an open session (-> checkout.session.expired)
    POST /v1/refunds                         refund part or all of a paid session's payment intent

  The hosted payment page, where the shopper types a card (Tandem never sees it):
    GET  /pay/{id}    a form: card number, expiry, CVC, a pay button, a link back to cancel_url
    POST /pay/{id}    4242 4242 4242 4242 succeeds: the session is complete and paid, a signed
                      checkout.session.completed event goes to --webhook-url, and the shopper is
                      sent (303) to success_url with {CHECKOUT_SESSION_ID} filled in.
                      4000 0000 0000 0002 is declined: "Your card was declined", the session
                      stays open (as on Stripe). Any expiry and CVC do.
  Sessions whose expires_at has passed expire (-> checkout.session.expired) when touched and on
  a background tick.

  Webhook events, as Stripe sends them: `{"id": "evt_…", "object": "event", "type": …,
  "api_version": "2024-06-20", "created": …, "data": {"object": <session>}, …}` POSTed as
  application/json with `Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256(--webhook-secret,
  "<t>." + body)>`, signed afresh for each attempt; an answer other than 2xx is retried with
  doubling backoff, a bounded number of times.

  A control API for tests (JSON in, JSON out):
    GET  /sim/config, POST /sim/config {"duplicate": N, "delay_ms": M, "hold": bool,
         "max_attempts": N, "backoff_ms": M, "webhook_url": s, "webhook_secret": s,
         "fail_api": N, "api_delay_ms": M}
         duplicate: each event is delivered N more times (0: once); delay_ms: events wait this
         long before their first delivery; hold: events are kept (not sent) until /sim/release;
         fail_api: the next N requests to /v1/… answer 500; api_delay_ms: /v1/… answers wait.
    POST /sim/release {"order": "fifo" | "reverse"}   sends the held events, in that order
    POST /sim/drain {"timeout_ms": N}     waits until no delivery is queued or under way
    GET  /sim/events                      every event, its payload and each delivery attempt
    POST /sim/events/{id}/resend          delivers an event once more (with retries)
    POST /sim/pay/{session_id} {"card": "4242…"}   pays without the HTML form
    POST /sim/forge {"session_id": …, "type": …, "signature": "wrong_secret" | "stale" |
         "future" | "tampered" | "missing"}   sends, once and at once, an event whose signature
         must be refused; answers the receiver's status

Deliveries go one at a time, in order, from one thread: events released in reverse arrive in
reverse. Every loop, queue and retry is bounded (the limits below).

Python 3 standard library only. Example:
  tools/payment_provider.py --port 0 --secret-key sk_test_tandem \\
      --webhook-url http://127.0.0.1:8080/api/v1/webhooks/payments --webhook-secret whsec_tandem
The first line on stdout is `listening on http://127.0.0.1:PORT`.
"""

import argparse
import base64
import collections
import hashlib
import heapq
import hmac
import html
import http.client
import http.server
import json
import re
import secrets
import string
import sys
import threading
import time
import urllib.parse

API_VERSION = "2024-06-20"
SUCCESS_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
INSUFFICIENT_FUNDS_CARD = "4000000000009995"

# Limits, unit last.
BODY_BYTES_MAX = 64 * 1024
FORM_FIELDS_MAX = 200
SESSIONS_MAX = 10_000  # the oldest are forgotten past this
EVENTS_MAX = 10_000
IDEMPOTENCY_KEYS_MAX = 10_000
IDEMPOTENCY_KEY_BYTES_MAX = 255
QUEUED_DELIVERIES_MAX = 10_000
DUPLICATE_MAX = 10
ATTEMPTS_MAX = 10
DELAY_MS_MAX = 60_000
FAIL_API_MAX = 1000
SESSION_TTL_SECONDS_DEFAULT = 24 * 3600
SESSION_TTL_SECONDS_MAX = 24 * 3600
WEBHOOK_TIMEOUT_SECONDS = 10
DRAIN_TIMEOUT_MS_MAX = 60_000
METADATA_KEYS_MAX = 50
TEXT_BYTES_MAX = 5000

ZERO_DECIMAL_CURRENCIES = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf",
                           "ugx", "vnd", "vuv", "xaf", "xof", "xpf"}
SESSION_PARAMS = {"mode", "line_items", "success_url", "cancel_url", "client_reference_id",
                  "metadata", "customer_email", "expires_at", "payment_method_types", "locale",
                  "submit_type"}
REFUND_PARAMS = {"payment_intent", "amount", "reason", "metadata"}
FORGE_SIGNATURES = ("wrong_secret", "stale", "future", "tampered", "missing")
FORGE_SKEW_SECONDS = 3600  # how far a stale or future forged timestamp is off


class ApiError(Exception):
    """A Stripe-shaped error answer."""

    def __init__(self, status, message, type_="invalid_request_error", code=None, param=None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {"type": type_, "message": message}}
        if code:
            self.body["error"]["code"] = code
        if param:
            self.body["error"]["param"] = param


def new_id(prefix):
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(24))


def sign(secret, timestamp, body):
    """The Stripe-Signature value for `body` (bytes) at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def nest_form(pairs):
    """Stripe's bracket notation (`line_items[0][price_data][currency]=myr`) -> nested dicts;
    a dict whose keys are all digits becomes a list in index order."""
    root = {}
    for key, value in pairs:
        m = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if not m:
            raise ApiError(400, f"Invalid parameter name: {key}")
        path = [m.group(1)] + re.findall(r"\[([^\[\]]*)\]", m.group(2))
        node = root
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ApiError(400, f"Invalid parameter: {key}", param=key)
            node = child
        if isinstance(node.get(path[-1]), dict):
            raise ApiError(400, f"Invalid parameter: {key}", param=key)
        node[path[-1]] = value

    def listify(node):
        if not isinstance(node, dict):
            return node
        items = {k: listify(v) for k, v in node.items()}
        if items and all(k.isdigit() for k in items):
            return [items[k] for k in sorted(items, key=int)]
        return items

    return listify(root)


def require(params, name, param=None, kind=str):
    value = params.get(name)
    if value is None or value == "":
        raise ApiError(400, f"Missing required param: {param or name}.", code="parameter_missing",
                       param=param or name)
    if not isinstance(value, kind):
        raise ApiError(400, f"Invalid {param or name}", param=param or name)
    return value


def integer(value, param, minimum=None):
    if not isinstance(value, str) or not re.fullmatch(r"-?\d{1,18}", value):
        raise ApiError(400, f"Invalid integer: {value}", param=param)
    n = int(value)
    if minimum is not None and n < minimum:
        raise ApiError(400, f"This value must be greater than or equal to {minimum}.", param=param)
    return n


def valid_url(value, param):
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s]+", value) \
            or len(value) > TEXT_BYTES_MAX:
        raise ApiError(400, "Not a valid URL", code="url_invalid", param=param)
    return value


def format_amount(amount, currency):
    if currency in ZERO_DECIMAL_CURRENCIES:
        return f"{currency.upper()} {amount}"
    return f"{currency.upper()} {amount // 100}.{amount % 100:02d}"


class Provider:
    """All state, under one lock (`self.cond`); the delivery thread waits on the same condition."""

    def __init__(self, secret_key, webhook_url, webhook_secret, public_url, verbose=False):
        self.secret_key = secret_key
        self.public_url = public_url
        self.verbose = verbose
        self.cond = threading.Condition()
        self.config = {
            "webhook_url": webhook_url, "webhook_secret": webhook_secret, "duplicate": 0,
            "delay_ms": 0, "hold": False, "max_attempts": 4, "backoff_ms": 200, "fail_api": 0,
            "api_delay_ms": 0,
        }
        self.sessions = collections.OrderedDict()
        self.intents = {}  # pi_… -> {"amount", "currency", "refunded", "session"}
        self.events = collections.OrderedDict()
        self.idempotency = collections.OrderedDict()  # key -> (fingerprint, status, body)
        self.held = []  # event ids, in the order they were made
        self.queue = []  # heap of (due monotonic, seq, event id, attempt, copy)
        self.seq = 0
        self.sending = 0
        self.stopping = False

    def log(self, text):
        if self.verbose:
            print(text, file=sys.stderr, flush=True)

    # --- sessions -------------------------------------------------------------------------

    def create_session(self, params, now):
        unknown = sorted(set(params) - SESSION_PARAMS)
        if unknown:
            raise ApiError(400, f"Received unknown parameter: {unknown[0]}", param=unknown[0])
        mode = require(params, "mode")
        if mode != "payment":
            raise ApiError(400, f"Invalid mode: {mode} (the simulator takes payment only)",
                           param="mode")
        items = require(params, "line_items", kind=list)
        if not items or len(items) > 100:
            raise ApiError(400, "line_items must be a list of 1 to 100 items", param="line_items")
        currency = None
        total = 0
        for i, item in enumerate(items):
            where = f"line_items[{i}]"
            if not isinstance(item, dict):
                raise ApiError(400, f"Invalid {where}", param=where)
            price = item.get("price_data")
            if not isinstance(price, dict):
                raise ApiError(400, f"Missing required param: {where}[price_data].",
                               code="parameter_missing", param=f"{where}[price_data]")
            cur = require(price, "currency", f"{where}[price_data][currency]").lower()
            if not re.fullmatch(r"[a-z]{3}", cur):
                raise ApiError(400, f"Invalid currency: {cur}",
                               param=f"{where}[price_data][currency]")
            if currency not in (None, cur):
                raise ApiError(400, "All line items must have the same currency.", param=where)
            currency = cur
            unit = integer(require(price, "unit_amount", f"{where}[price_data][unit_amount]"),
                           f"{where}[price_data][unit_amount]", minimum=0)
            product = price.get("product_data")
            if not isinstance(product, dict) or not product.get("name"):
                name = f"{where}[price_data][product_data][name]"
                raise ApiError(400, f"Missing required param: {name}.", code="parameter_missing",
                               param=name)
            quantity = integer(require(item, "quantity", f"{where}[quantity]"),
                               f"{where}[quantity]", minimum=1)
            total += unit * quantity
        if total <= 0:
            raise ApiError(400, "The Checkout Session's total amount due must be greater than 0.",
                           code="amount_too_small")
        success_url = valid_url(require(params, "success_url"), "success_url")
        cancel_url = params.get("cancel_url")
        if cancel_url is not None:
            valid_url(cancel_url, "cancel_url")
        email = params.get("customer_email")
        if email is not None and (not isinstance(email, str) or
                                  not re.fullmatch(r"[^@\s]+@[^@\s]+", email)):
            raise ApiError(400, f"Invalid email address: {email}", code="email_invalid",
                           param="customer_email")
        metadata = params.get("metadata", {})
        if not isinstance(metadata, dict) or len(metadata) > METADATA_KEYS_MAX or \
                any(not isinstance(v, str) or len(v) > 500 or len(k) > 40
                    for k, v in metadata.items()):
            raise ApiError(400, "Invalid metadata", param="metadata")
        reference = params.get("client_reference_id")
        if reference is not None and (not isinstance(reference, str) or len(reference) > 200):
            raise ApiError(400, "Invalid client_reference_id", param="client_reference_id")
        expires_at = now + SESSION_TTL_SECONDS_DEFAULT
        if "expires_at" in params:
            expires_at = integer(params["expires_at"], "expires_at")
            if expires_at <= now:
                raise ApiError(400, "The `expires_at` timestamp must be in the future.",
                               param="expires_at")
            if expires_at > now + SESSION_TTL_SECONDS_MAX:
                raise ApiError(400, "The `expires_at` timestamp must be less than 24 hours from "
                               "Checkout Session creation.", param="expires_at")
        sid = new_id("cs_test_")
        session = {
            "id": sid, "object": "checkout.session", "amount_subtotal": total,
            "amount_total": total, "cancel_url": cancel_url, "client_reference_id": reference,
            "created": now, "currency": currency, "customer_details": None,
            "customer_email": email, "expires_at": expires_at, "livemode": False,
            "metadata": metadata, "mode": "payment", "payment_intent": None,
            "payment_status": "unpaid", "status": "open", "success_url": success_url,
            "url": f"{self.public_url}/pay/{sid}",
            "line_items_description": [i["price_data"]["product_data"]["name"] for i in items],
        }
        self.sessions[sid] = session
        while len(self.sessions) > SESSIONS_MAX:
            self.sessions.popitem(last=False)
        return self.public_session(session)

    @staticmethod
    def public_session(session):
        return {k: v for k, v in session.items() if k != "line_items_description"}

    def session(self, sid):
        self.expire_due()
        session = self.sessions.get(sid)
        if session is None:
            raise ApiError(404, f"No such checkout.session: '{sid}'", code="resource_missing",
                           param="id")
        return session

    def expire(self, session, now):
        session["status"] = "expired"
        session["url"] = None
        self.emit("checkout.session.expired", session, now)

    def expire_due(self):
        now = int(time.time())
        for session in list(self.sessions.values()):  # bounded by SESSIONS_MAX
            if session["status"] == "open" and session["expires_at"] <= now:
                self.expire(session, now)

    def pay(self, sid, card):
        """-> (outcome, message, session); outcome is succeeded, declined, invalid or closed."""
        session = self.session(sid)
        if session["status"] == "expired":
            return "closed", "This Checkout Session has expired.", session
        if session["status"] == "complete":
            return "closed", "This Checkout Session is already paid.", session
        card = re.sub(r"[\s-]", "", card or "")
        if card == DECLINED_CARD:
            return "declined", "Your card was declined.", session
        if card == INSUFFICIENT_FUNDS_CARD:
            return "declined", "Your card has insufficient funds.", session
        if card != SUCCESS_CARD:
            return "invalid", "Your card number is incorrect.", session
        now = int(time.time())
        pi = new_id("pi_")
        session.update(status="complete", payment_status="paid", payment_intent=pi, url=None,
                       customer_details={"email": session["customer_email"]})
        self.intents[pi] = {"amount": session["amount_total"], "currency": session["currency"],
                            "refunded": 0, "session": sid}
        self.emit("checkout.session.completed", session, now)
        return "succeeded", "", session

    def refund(self, params, now):
        unknown = sorted(set(params) - REFUND_PARAMS)
        if unknown:
            raise ApiError(400, f"Received unknown parameter: {unknown[0]}", param=unknown[0])
        pi = require(params, "payment_intent")
        intent = self.intents.get(pi)
        if intent is None:
            raise ApiError(400, f"No such payment_intent: '{pi}'", code="resource_missing",
                           param="payment_intent")
        left = intent["amount"] - intent["refunded"]
        if left <= 0:
            raise ApiError(400, f"Charge for {pi} has already been refunded.",
                           code="charge_already_refunded")
        amount = integer(params["amount"], "amount", minimum=1) if "amount" in params else left
        if amount > left:
            raise ApiError(400, f"Refund amount ({format_amount(amount, intent['currency'])}) is "
                           f"greater than unrefunded amount on charge "
                           f"({format_amount(left, intent['currency'])})",
                           code="amount_too_large", param="amount")
        intent["refunded"] += amount
        return {"id": new_id("re_"), "object": "refund", "amount": amount,
                "currency": intent["currency"], "payment_intent": pi, "status": "succeeded",
                "created": now, "reason": params.get("reason"),
                "metadata": params.get("metadata", {})}

    # --- events and their delivery --------------------------------------------------------

    def make_event(self, type_, session, now, forged=False):
        eid = new_id("evt_")
        payload = json.dumps({
            "id": eid, "object": "event", "api_version": API_VERSION, "created": now,
            "data": {"object": self.public_session(session)}, "livemode": False,
            "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }, separators=(",", ":")).encode()
        self.events[eid] = {"id": eid, "type": type_, "created": now, "session_id": session["id"],
                            "payload": payload, "deliveries": [], "held": False, "forged": forged}
        while len(self.events) > EVENTS_MAX:
            self.events.popitem(last=False)
        return eid

    def emit(self, type_, session, now):
        eid = self.make_event(type_, session, now)
        if self.config["hold"]:
            self.events[eid]["held"] = True
            self.held.append(eid)
            return
        due = time.monotonic() + self.config["delay_ms"] / 1000
        for copy in range(1 + self.config["duplicate"]):
            self.schedule(due, eid, 1, copy)

    def schedule(self, due, eid, attempt, copy):
        if len(self.queue) >= QUEUED_DELIVERIES_MAX:
            self.log(f"delivery queue full: {eid} dropped")
            return
        self.seq += 1
        heapq.heappush(self.queue, (due, self.seq, eid, attempt, copy))
        self.cond.notify_all()

    def release(self, order):
        ids, self.held = self.held, []
        if order == "reverse":
            ids.reverse()
        due = time.monotonic() + self.config["delay_ms"] / 1000
        for eid in ids:
            if eid not in self.events:
                continue
            self.events[eid]["held"] = False
            for copy in range(1 + self.config["duplicate"]):
                self.schedule(due, eid, 1, copy)
        return len(ids)

    def post_event(self, url, payload, signature):
        """POSTs one event; -> (status or None, error or None). Called without the lock."""
        parts = urllib.parse.urlsplit(url)
        conn_class = http.client.HTTPSConnection if parts.scheme == "https" else \
            http.client.HTTPConnection
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": "Tandem-Payment-Simulator/1.0"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        conn = conn_class(parts.hostname, parts.port, timeout=WEBHOOK_TIMEOUT_SECONDS)
        try:
            conn.request("POST", path, body=payload, headers=headers)
            resp = conn.getresponse()
            resp.read()
            return resp.status, None
        except (OSError, http.client.HTTPException) as e:
            return None, f"{type(e).__name__}: {e}"
        finally:
            conn.close()

    def deliver_loop(self):
        while True:
            with self.cond:
                while not self.stopping and (not self.queue or
                                             self.queue[0][0] > time.monotonic()):
                    wait = self.queue[0][0] - time.monotonic() if self.queue else None
                    self.cond.wait(timeout=wait)
                if self.stopping:
                    return
                _, _, eid, attempt, copy = heapq.heappop(self.queue)
                event = self.events.get(eid)
                if event is None:
                    continue
                url, secret = self.config["webhook_url"], self.config["webhook_secret"]
                max_attempts, backoff_ms = self.config["max_attempts"], self.config["backoff_ms"]
                payload = event["payload"]
                self.sending += 1
            if url:
                signature = sign(secret, int(time.time()), payload)
                status, error = self.post_event(url, payload, signature)
            else:
                status, error = None, "no webhook url configured"
            with self.cond:
                self.sending -= 1
                event["deliveries"].append({"copy": copy, "attempt": attempt, "at": time.time(),
                                            "status": status, "error": error, "forged": False})
                self.log(f"webhook {eid} {event['type']} copy {copy} attempt {attempt}: "
                         f"{status or error}")
                ok = status is not None and 200 <= status < 300
                if not ok and url and attempt < max_attempts:
                    due = time.monotonic() + backoff_ms / 1000 * 2 ** (attempt - 1)
                    self.schedule(due, eid, attempt + 1, copy)
                self.cond.notify_all()

    def drain(self, timeout_ms):
        deadline = time.monotonic() + timeout_ms / 1000
        with self.cond:
            while self.queue or self.sending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(timeout=left)
            return True

    def forge(self, sid, type_, how):
        """Sends one event with a signature that must be refused; -> the answer for /sim/forge."""
        if how not in FORGE_SIGNATURES:
            raise ApiError(400, f"signature must be one of {', '.join(FORGE_SIGNATURES)}")
        with self.cond:
            session = self.session(sid)
            now = int(time.time())
            eid = self.make_event(type_, session, now, forged=True)
            payload = self.events[eid]["payload"]
            url, secret = self.config["webhook_url"], self.config["webhook_secret"]
        if not url:
            raise ApiError(400, "no webhook url configured")
        body, signature = payload, sign(secret, now, payload)
        if how == "wrong_secret":
            signature = sign(secret + "-forged", now, payload)
        elif how == "stale":
            signature = sign(secret, now - FORGE_SKEW_SECONDS, payload)
        elif how == "future":
            signature = sign(secret, now + FORGE_SKEW_SECONDS, payload)
        elif how == "tampered":
            body = payload.replace(b'"livemode":false', b'"livemode":true ')
        elif how == "missing":
            signature = None
        status, error = self.post_event(url, body, signature)
        with self.cond:
            self.events[eid]["deliveries"].append({"copy": 0, "attempt": 1, "at": time.time(),
                                                   "status": status, "error": error,
                                                   "forged": how})
        return {"event": eid, "signature": how, "status": status, "error": error}

    def tick_loop(self, tick_s):
        while True:
            with self.cond:
                if self.stopping:
                    return
                self.expire_due()
                self.cond.wait(timeout=tick_s)

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()


CONFIG_BOUNDS = {"duplicate": (0, DUPLICATE_MAX), "delay_ms": (0, DELAY_MS_MAX),
                 "max_attempts": (1, ATTEMPTS_MAX), "backoff_ms": (0, DELAY_MS_MAX),
                 "fail_api": (0, FAIL_API_MAX), "api_delay_ms": (0, DELAY_MS_MAX)}

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pay {amount} - test payment page</title>
<style>body{{font-family:sans-serif;max-width:26rem;margin:3rem auto}}label{{display:block;
margin:.6rem 0}}input{{display:block;width:100%;padding:.4rem}}.error{{color:#b00}}</style>
</head><body>
<p><strong>Test mode</strong>: a simulated payment page. Card 4242 4242 4242 4242 succeeds,
4000 0000 0000 0002 is declined; any expiry and CVC.</p>
<h1>Pay {amount}</h1>
<p>{items}{email}</p>
{body}
</body></html>
"""

FORM = """{error}<form method="post" action="/pay/{sid}">
<label for="card_number">Card number<input id="card_number" name="card_number"
 inputmode="numeric" autocomplete="cc-number" placeholder="1234 1234 1234 1234"></label>
<label for="exp">Expiry (MM / YY)<input id="exp" name="exp" autocomplete="cc-exp"
 placeholder="MM / YY"></label>
<label for="cvc">CVC<input id="cvc" name="cvc" autocomplete="cc-csc" placeholder="CVC"></label>
<button type="submit">Pay {amount}</button>
</form>
{cancel}"""


def make_handler(provider):
    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "PaymentProviderSimulator/1.0"

        def log_message(self, fmt, *args):  # noqa: N802 (http.server's name)
            provider.log(f"{self.address_string()} {fmt % args}")

        def send(self, status, body, content_type="application/json", headers=()):
            data = body if isinstance(body, bytes) else \
                (json.dumps(body) if content_type == "application/json" else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type + "; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def read_body(self):
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise ApiError(400, "Invalid Content-Length")
            if length < 0 or length > BODY_BYTES_MAX:
                raise ApiError(413, "Request body too large")
            return self.rfile.read(length)

        def read_form(self):
            try:
                pairs = urllib.parse.parse_qsl(self.read_body().decode("utf-8"),
                                               keep_blank_values=True,
                                               max_num_fields=FORM_FIELDS_MAX)
            except (UnicodeDecodeError, ValueError):
                raise ApiError(400, "Invalid form body")
            return pairs

        def read_json(self):
            raw = self.read_body()
            try:
                value = json.loads(raw) if raw.strip() else {}
            except (UnicodeDecodeError, ValueError):
                raise ApiError(400, "Invalid JSON body")
            if not isinstance(value, dict):
                raise ApiError(400, "The JSON body must be an object")
            return value

        def authorized(self):
            auth = self.headers.get("Authorization", "")
            if not auth:
                raise ApiError(401, "You did not provide an API key. You need to provide your API "
                               "key in the Authorization header, using Bearer auth.")
            key = None
            if auth.startswith("Bearer "):
                key = auth[len("Bearer "):].strip()
            elif auth.startswith("Basic "):
                try:
                    key = base64.b64decode(auth[len("Basic "):]).decode().split(":", 1)[0]
                except (ValueError, UnicodeDecodeError):
                    key = None
            if key is None or not hmac.compare_digest(key.encode(), provider.secret_key.encode()):
                shown = (key or "")[-4:]
                raise ApiError(401, f"Invalid API Key provided: sk_****{shown}")

        def do_GET(self):  # noqa: N802
            self.dispatch("GET")

        def do_POST(self):  # noqa: N802
            self.dispatch("POST")

        def dispatch(self, method):
            path = urllib.parse.urlsplit(self.path).path
            try:
                if path.startswith("/v1/"):
                    self.api(method, path)
                elif path.startswith("/pay/"):
                    self.page(method, path[len("/pay/"):])
                elif path.startswith("/sim/"):
                    self.control(method, path)
                else:
                    raise ApiError(404, f"Unrecognized request URL ({method}: {path}).")
            except ApiError as e:
                self.send(e.status, e.body)
            except Exception as e:  # a bug here: answer as Stripe would, and say so
                provider.log(f"unexpected {type(e).__name__}: {e}")
                self.send(500, {"error": {"type": "api_error",
                                          "message": f"{type(e).__name__}: {e}"}})

        # --- Stripe's API ---

        def api(self, method, path):
            with provider.cond:
                failing = provider.config["fail_api"] > 0
                if failing:
                    provider.config["fail_api"] -= 1
                delay_ms = provider.config["api_delay_ms"]
            if delay_ms:
                time.sleep(delay_ms / 1000)
            if failing:
                self.read_body()
                raise ApiError(500, "Simulated provider failure.", type_="api_error")
            self.authorized()
            key = self.headers.get("Idempotency-Key")
            if method == "POST":
                pairs = self.read_form()
                params = nest_form(pairs)
            if key is not None and method == "POST":
                if len(key) > IDEMPOTENCY_KEY_BYTES_MAX:
                    raise ApiError(400, "Idempotency-Key too long", type_="idempotency_error")
                fingerprint = (path, tuple(sorted(pairs)))
                with provider.cond:
                    saved = provider.idempotency.get(key)
                    if saved is None:
                        status, body = self.api_call(method, path, params)
                        if status < 500:  # as Stripe: a failure may be tried again
                            provider.idempotency[key] = (fingerprint, status, body)
                            while len(provider.idempotency) > IDEMPOTENCY_KEYS_MAX:
                                provider.idempotency.popitem(last=False)
                if saved is None:
                    self.send(status, body, headers=[("Idempotency-Key", key)])
                    return
                if saved[0] != fingerprint:
                    raise ApiError(400, "Keys for idempotent requests can only be used with the "
                                   "same parameters they were first used with. Try using a key "
                                   f"other than '{key}' if you meant to execute a different "
                                   "request.", type_="idempotency_error")
                self.send(saved[1], saved[2],
                          headers=[("Idempotency-Key", key), ("Idempotent-Replayed", "true")])
                return
            with provider.cond:
                status, body = self.api_call(method, path, params if method == "POST" else {})
            self.send(status, body)

        def api_call(self, method, path, params):
            """-> (status, body); called with the lock held."""
            now = int(time.time())
            try:
                m = re.fullmatch(r"/v1/checkout/sessions(?:/([A-Za-z0-9_]+)(/expire)?)?", path)
                if m and method == "POST" and not m.group(1):
                    return 200, provider.create_session(params, now)
                if m and method == "GET" and m.group(1) and not m.group(2):
                    return 200, provider.public_session(provider.session(m.group(1)))
                if m and method == "POST" and m.group(1) and m.group(2):
                    session = provider.session(m.group(1))
                    if session["status"] != "open":
                        raise ApiError(400, "Only Checkout Sessions with a status in [\"open\"] "
                                       "can be expired.", code="checkout_session_not_open")
                    provider.expire(session, now)
                    return 200, provider.public_session(session)
                if path == "/v1/refunds" and method == "POST":
                    return 200, provider.refund(params, now)
                raise ApiError(404, f"Unrecognized request URL ({method}: {path}).")
            except ApiError as e:
                return e.status, e.body

        # --- the hosted page ---

        def page(self, method, sid):
            fields = dict(self.read_form()) if method == "POST" else {}
            with provider.cond:
                try:
                    session = provider.session(sid)
                except ApiError:
                    self.send(404, PAGE.format(amount="", items="", email="",
                                               body="<p>No such payment page.</p>"), "text/html")
                    return
                if method == "POST":
                    outcome, message, session = provider.pay(sid, fields.get("card_number"))
                else:
                    outcome, message = None, ""
                    if session["status"] == "expired":
                        outcome, message = "closed", "This Checkout Session has expired."
                    elif session["status"] == "complete":
                        outcome, message = "closed", "This Checkout Session is already paid."
                view = dict(session)
            if outcome == "succeeded":
                target = view["success_url"].replace("{CHECKOUT_SESSION_ID}", sid)
                self.send(303, b"", "text/plain", headers=[("Location", target)])
                return
            amount = format_amount(view["amount_total"], view["currency"])
            cancel = ""
            if view["cancel_url"] and outcome != "closed":
                cancel = f'<p><a href="{html.escape(view["cancel_url"])}">Cancel and return</a></p>'
            if outcome == "closed":
                body = f'<p class="error" role="alert">{html.escape(message)}</p>'
            else:
                error = f'<p class="error" role="alert">{html.escape(message)}</p>' \
                    if message else ""
                body = FORM.format(error=error, sid=html.escape(sid), amount=html.escape(amount),
                                   cancel=cancel)
            items = ", ".join(html.escape(n) for n in view["line_items_description"])
            email = f" &middot; {html.escape(view['customer_email'])}" \
                if view["customer_email"] else ""
            status = {None: 200, "declined": 402, "invalid": 400, "closed": 410}[outcome]
            self.send(status, PAGE.format(amount=html.escape(amount), items=items, email=email,
                                          body=body), "text/html")

        # --- the control API ---

        def control(self, method, path):
            body = self.read_json() if method == "POST" else {}
            if path == "/sim/config":
                with provider.cond:
                    if method == "POST":
                        self.configure(body)
                    self.send(200, dict(provider.config))
                return
            if path == "/sim/release" and method == "POST":
                order = body.get("order", "fifo")
                if order not in ("fifo", "reverse"):
                    raise ApiError(400, "order must be fifo or reverse")
                with provider.cond:
                    released = provider.release(order)
                self.send(200, {"released": released})
                return
            if path == "/sim/drain" and method == "POST":
                timeout_ms = body.get("timeout_ms", 10_000)
                if not isinstance(timeout_ms, int) or not 0 <= timeout_ms <= DRAIN_TIMEOUT_MS_MAX:
                    raise ApiError(400, f"timeout_ms must be 0..{DRAIN_TIMEOUT_MS_MAX}")
                idle = provider.drain(timeout_ms)
                with provider.cond:
                    held = len(provider.held)
                self.send(200 if idle else 504, {"idle": idle, "held": held})
                return
            if path == "/sim/events" and method == "GET":
                with provider.cond:
                    events = [self.event_view(e) for e in provider.events.values()]
                self.send(200, {"data": events})
                return
            m = re.fullmatch(r"/sim/events/([A-Za-z0-9_]+)(/resend)?", path)
            if m:
                with provider.cond:
                    event = provider.events.get(m.group(1))
                    if event is None:
                        raise ApiError(404, f"No such event: '{m.group(1)}'")
                    if m.group(2) and method == "POST":
                        provider.schedule(time.monotonic(), event["id"], 1, 0)
                        self.send(200, {"scheduled": event["id"]})
                    elif not m.group(2) and method == "GET":
                        self.send(200, self.event_view(event))
                    else:
                        raise ApiError(405, "method not allowed")
                return
            m = re.fullmatch(r"/sim/pay/([A-Za-z0-9_]+)", path)
            if m and method == "POST":
                with provider.cond:
                    outcome, message, session = provider.pay(m.group(1), str(body.get("card", "")))
                    view = provider.public_session(session)
                if outcome == "succeeded":
                    self.send(200, {"outcome": outcome, "session": view})
                else:
                    status = {"declined": 402, "invalid": 402, "closed": 409}[outcome]
                    code = {"declined": "card_declined", "invalid": "incorrect_number",
                            "closed": "checkout_session_not_open"}[outcome]
                    self.send(status, {"outcome": outcome, "session": view,
                                       "error": {"type": "card_error", "code": code,
                                                 "message": message}})
                return
            if path == "/sim/forge" and method == "POST":
                sid = body.get("session_id")
                type_ = body.get("type", "checkout.session.completed")
                if not isinstance(sid, str) or not isinstance(type_, str):
                    raise ApiError(400, "session_id and type must be strings")
                self.send(200, provider.forge(sid, type_, body.get("signature", "wrong_secret")))
                return
            raise ApiError(404, f"Unrecognized request URL ({method}: {path}).")

        @staticmethod
        def configure(body):
            unknown = sorted(set(body) - set(provider.config))
            if unknown:
                raise ApiError(400, f"unknown setting: {unknown[0]}")
            for name, value in body.items():
                if name in CONFIG_BOUNDS:
                    low, high = CONFIG_BOUNDS[name]
                    if not isinstance(value, int) or isinstance(value, bool) or \
                            not low <= value <= high:
                        raise ApiError(400, f"{name} must be an integer in {low}..{high}")
                elif name == "hold":
                    if not isinstance(value, bool):
                        raise ApiError(400, "hold must be true or false")
                elif name == "webhook_url":
                    if value is not None:
                        valid_url(value, name)
                elif not isinstance(value, str) or not value:
                    raise ApiError(400, f"{name} must be a non-empty string")
            provider.config.update(body)

        @staticmethod
        def event_view(event):
            view = {k: v for k, v in event.items() if k != "payload"}
            view["deliveries"] = [dict(d) for d in event["deliveries"]]
            view["payload"] = json.loads(event["payload"])
            return view

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=0, help="0: pick a free port")
    parser.add_argument("--secret-key", default="sk_test_tandem_simulator",
                        help="the API key expected as bearer token")
    parser.add_argument("--webhook-url", default=None,
                        help="where events go, e.g. http://127.0.0.1:8080/api/v1/webhooks/payments")
    parser.add_argument("--webhook-secret", default="whsec_tandem_simulator",
                        help="the endpoint secret events are signed with")
    parser.add_argument("--public-url", default=None,
                        help="base of the hosted page URLs (default http://127.0.0.1:PORT)")
    parser.add_argument("--tick-ms", type=int, default=500, help="how often expiry is checked")
    parser.add_argument("--verbose", action="store_true", help="log requests and deliveries")
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535 or not 10 <= args.tick_ms <= 60_000:
        parser.error("--port must be 0..65535 and --tick-ms 10..60000")

    provider = Provider(args.secret_key, args.webhook_url, args.webhook_secret, None, args.verbose)
    server = Server(("127.0.0.1", args.port), make_handler(provider))
    port = server.server_address[1]
    provider.public_url = (args.public_url or f"http://127.0.0.1:{port}").rstrip("/")
    threading.Thread(target=provider.deliver_loop, name="deliver", daemon=True).start()
    threading.Thread(target=provider.tick_loop, args=(args.tick_ms / 1000,), name="tick",
                     daemon=True).start()
    print(f"listening on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        provider.stop()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
