"""Black-box functional tests for Tandem: fixtures and helpers.

Every test starts the real `tandem` binary (TANDEM_BIN, default: the debug build) on a fresh
data folder, creates one staff account per role with `tandem user add` before serving, and talks
HTTP/JSON to it with http.client. Only the Python standard library and pytest are used.

Run:  /usr/bin/python3 -m pytest tests/functional -q
"""

import concurrent.futures
import datetime
import http.client
import itertools
import json as jsonlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
from serve import ServeFailed, start_serve  # noqa: E402

BIN = os.environ.get("TANDEM_BIN", "/work/main/build/debug/src/tandem/tandem")
ROLES = ("admin", "merchant", "ops", "clerk")
STAFF_PASSWORD = "staff-password-42"
CUSTOMER_PASSWORD = "shopper-password-42"
REQUEST_TIMEOUT = 30  # seconds, every request
START_TIMEOUT = 60  # seconds until "tandem listening on" (ASan start-up is slow)
STOP_TIMEOUT = 30  # seconds for a graceful SIGTERM stop
CLI_TIMEOUT = 120

ORDER_NUMBER_RE = re.compile(r"^TD-(\d{4})-(\d{6})$")

# A delivery address that is easy to spot in a response body.
ADDRESS = {
    "name": "Philippa Quaintrelle",
    "line1": "77 Jalan Zircon Xanadu",
    "city": "Kuala Terengganu",
    "postcode": "20888",
    "country": "MY",
    "phone": "+60 12-987 6543",
}

_RUN = uuid.uuid4().hex[:6]
_counter = itertools.count(1)


def unique(prefix="x"):
    """A name unique in this test run, made of [A-Za-z0-9-] only (valid as SKU and e-mail part)."""
    return f"{prefix}{_RUN}{next(_counter)}"


def parse_ts(text):
    """RFC 3339 UTC timestamp as the server writes it (2025-01-02T03:04:05.678Z) -> aware datetime."""
    assert isinstance(text, str) and text.endswith("Z"), text
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)


def assert_problem(resp, status, code=None):
    """`resp` is (status, headers, body): an RFC 9457 problem+json answer with a stable code."""
    got_status, headers, body = resp
    assert got_status == status, f"expected {status} {code}, got {got_status}: {body!r}"
    ctype = headers.get("Content-Type", "")
    assert ctype.startswith("application/problem+json"), f"content type {ctype!r}: {body!r}"
    assert isinstance(body, dict), body
    for field in ("type", "title", "status", "detail", "code"):
        assert field in body, f"problem without {field}: {body}"
    assert body["status"] == status, body
    assert re.fullmatch(r"[a-z][a-z0-9_]*", body["code"]), body
    if code is not None:
        assert body["code"] == code, f"expected code {code}, got {body}"
    return body


def recv_or_closed(sock):
    """The next bytes from `sock`; b"" once the server closed or reset it."""
    try:
        return sock.recv(65536)
    except ConnectionResetError:
        return b""


def read_http_answer(sock, timeout=20):
    """Reads one Content-Length framed HTTP answer from a raw socket: (head bytes, body bytes)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data and (chunk := recv_or_closed(sock)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
    length = int(match.group(1)) if match else 0
    while len(body) < length and (chunk := recv_or_closed(sock)):
        body += chunk
    return head, body[:length]


def read_http_response(sock, timeout=20):
    """read_http_answer parsed: (status, headers with lower-case names, body)."""
    head, body = read_http_answer(sock, timeout)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def _decode(headers, data):
    ctype = headers.get("Content-Type", "") or ""
    if ctype.startswith(("application/pdf", "image/png", "image/jpeg")):
        return data  # a file: its bytes
    text = data.decode("utf-8", errors="replace")
    if "json" in ctype:
        try:
            return jsonlib.loads(text)
        except ValueError:
            return text
    return text


class Cart:
    """A cart as its shopper sees it: id, the guest X-Cart-Token and (maybe) a login token."""

    def __init__(self, server, cart_id, cart_token, token=None):
        self.server = server
        self.id = cart_id
        self.cart_token = cart_token
        self.token = token

    def call(self, method, sub="", json=None, headers=None, raw_body=None):
        h = {"X-Cart-Token": self.cart_token}
        if headers:
            h.update(headers)
        return self.server.req(method, f"/api/v1/carts/{self.id}{sub}", json=json, headers=h,
                               token=self.token, raw_body=raw_body)

    def get(self):
        resp = self.call("GET")
        assert resp[0] == 200, resp
        return resp[2]

    def add(self, sku, quantity=1):
        return self.call("POST", "/items", json={"sku": sku, "quantity": quantity})

    def add_ok(self, sku, quantity=1):
        resp = self.add(sku, quantity)
        assert resp[0] == 201, resp
        return resp[2]

    def deliver(self, address=None, service="standard"):
        resp = self.call("PUT", "/fulfillment",
                         json={"method": "delivery", "address": address or ADDRESS,
                               "service": service})
        assert resp[0] == 200, resp
        return resp[2]

    def pickup(self, location_id):
        return self.call("PUT", "/fulfillment", json={"method": "pickup",
                                                      "location_id": location_id})

    def checkout(self, body=None, key=None):
        if body is None:
            body = {"payment_method": "cash_on_delivery"}
            if self.token is None:
                body.update(email=f"{unique('guest')}@example.com", name="Guest Shopper")
        headers = {"Idempotency-Key": key} if key else None
        return self.call("POST", "/checkout", json=body, headers=headers)


class Server:
    """One `tandem serve` process on its own data folder."""

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.stdout_path = os.path.join(data_dir, "server.stdout.log")
        self.stderr_path = os.path.join(data_dir, "server.stderr.log")
        self.staff_email = {role: f"{role}-{_RUN}@staff.example.com" for role in ROLES}
        self._tokens = {}
        self.problems = []  # things seen at stop time (sanitizer reports, bad exit codes)

    # ---- process control ----

    def cli(self, *args, timeout=CLI_TIMEOUT):
        """Runs `tandem ARGS --data DIR`; returns the CompletedProcess (text)."""
        if not os.path.exists(BIN):
            pytest.fail(f"tandem binary not found at {BIN} (set TANDEM_BIN)")
        return subprocess.run([BIN, *args, "--data", self.data_dir], capture_output=True,
                              text=True, timeout=timeout)

    def add_staff(self):
        """Creates one account per staff role. The first call creates the database on its own;
        the others run in parallel."""
        def add(role):
            r = self.cli("user", "add", "--email", self.staff_email[role], "--password",
                         STAFF_PASSWORD, "--role", role, "--name", f"Test {role}")
            assert r.returncode == 0, f"user add {role}: rc={r.returncode}\n{r.stdout}\n{r.stderr}"
        add(ROLES[0])
        with concurrent.futures.ThreadPoolExecutor(len(ROLES) - 1) as pool:
            list(pool.map(add, ROLES[1:]))

    def start(self):
        if not os.path.exists(BIN):
            pytest.fail(f"tandem binary not found at {BIN} (set TANDEM_BIN)")
        assert self.proc is None
        try:
            self.proc, self.port = start_serve(
                [BIN, "serve", "--data", self.data_dir, "--listen", "127.0.0.1:0",
                 *self.extra_args],
                self.stdout_path, self.stderr_path, START_TIMEOUT)
        except ServeFailed as e:
            pytest.fail(f"{e}:\n{self.stderr_tail()}")
        return self

    def stop(self):
        """SIGTERM and wait; remembers a bad exit or a sanitizer report in self.problems."""
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout"
            self.problems.append(f"did not stop within {STOP_TIMEOUT}s of SIGTERM")
        self.proc = None
        if rc != 0:
            self.problems.append(f"exit code after SIGTERM: {rc}")
        tail = self.stderr_tail(400)
        if "Sanitizer" in tail or "runtime error:" in tail:
            self.problems.append("sanitizer report in stderr")

    def kill9(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def restart(self):
        """Starts again on the same data folder (after kill9 or stop)."""
        if self.proc is not None:
            self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self, lines=60):
        try:
            with open(self.stderr_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return "(no stderr log)"
        return "\n".join(text.splitlines()[-lines:])

    def check(self):
        """`tandem check`: (exit code, output)."""
        r = self.cli("check")
        return r.returncode, r.stdout + r.stderr

    def assert_consistent(self):
        rc, out = self.check()
        assert rc == 0, f"tandem check found discrepancies (rc={rc}):\n{out}"

    # ---- HTTP ----

    def req(self, method, path, json=None, headers=None, token=None, raw_body=None,
            timeout=REQUEST_TIMEOUT):
        """One request on a fresh connection -> (status, headers, parsed JSON or text)."""
        h = {}
        body = None
        if json is not None:
            body = jsonlib.dumps(json).encode()
            h["Content-Type"] = "application/json"
        if raw_body is not None:
            body = raw_body if isinstance(raw_body, bytes) else raw_body.encode()
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = f"Bearer {token}"
        if headers:
            h.update(headers)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.headers, _decode(resp.headers, data)
        finally:
            conn.close()

    def ok(self, method, path, status=200, **kw):
        """req() that must answer `status`; returns the body."""
        resp = self.req(method, path, **kw)
        assert resp[0] == status, f"{method} {path}: expected {status}, got {resp[0]}: {resp[2]!r}"
        return resp[2]

    def login(self, email, password):
        body = self.ok("POST", "/api/v1/auth/login", json={"email": email, "password": password})
        assert isinstance(body.get("token"), str) and body["token"], body
        return body["token"]

    def token(self, role):
        """A (cached) session token for a staff role."""
        if role not in self._tokens:
            self._tokens[role] = self.login(self.staff_email[role], STAFF_PASSWORD)
        return self._tokens[role]

    def register(self, name=None, email=None, password=CUSTOMER_PASSWORD, phone=None):
        """Registers and logs in a customer -> dict(email, password, token, account)."""
        email = email or f"{unique('shopper')}@example.com"
        body = {"email": email, "password": password, "name": name or f"Shopper {unique()}"}
        if phone:
            body["phone"] = phone
        account = self.ok("POST", "/api/v1/customers", status=201, json=body)
        token = self.login(email, password)
        return {"email": email, "password": password, "token": token, "account": account,
                "name": body["name"]}

    # ---- seeding (as admin) ----

    def location(self, kind="store", ships=True, pickup=True, safety=0, name=None):
        body = {"code": unique("L"), "name": name or f"Loc {unique()}", "kind": kind,
                "address": "1 Test Street", "ships_orders": ships, "pickup": pickup,
                "sells_in_store": kind == "store", "safety_stock_default": safety}
        return self.ok("POST", "/api/v1/locations", status=201, json=body,
                       token=self.token("admin"))["id"]

    def product(self, skus, price=1290, name=None, description="", currency="MYR"):
        body = {"name": name or f"Product {unique()}", "description": description,
                "category": "test",
                "variants": [{"sku": s, "price": {"amount": price, "currency": currency},
                              "options": {"size": "M"}, "image_url": f"/img/{s}.jpg"}
                             for s in skus]}
        return self.ok("POST", "/api/v1/products", status=201, json=body,
                       token=self.token("admin"))

    def receive(self, sku, location_id, qty):
        return self.ok("POST", "/api/v1/inventory/adjustments", status=201,
                       json={"sku": sku, "location_id": location_id, "delta": qty,
                             "reason": "receipt"}, token=self.token("admin"))

    def seed(self, stock, price=1290, name=None, description=""):
        """A new one-variant product with `stock` = {location_id: quantity}; returns its SKU."""
        sku = unique("SKU-")
        self.product([sku], price=price, name=name, description=description)
        for loc, qty in stock.items():
            if qty:
                self.receive(sku, loc, qty)
        return sku

    def levels(self, sku):
        """{location_id: level} for a SKU, as staff sees it."""
        body = self.ok("GET", f"/api/v1/inventory?sku={sku}", token=self.token("ops"))
        return {lv["location_id"]: lv for lv in body["items"]}

    def total(self, sku, field="available"):
        return sum(lv[field] for lv in self.levels(sku).values())

    def movements(self, sku, location_id):
        return self.ok("GET", f"/api/v1/inventory/movements?sku={sku}&location_id={location_id}",
                       token=self.token("ops"))["items"]

    # ---- shopping ----

    def new_cart(self, token=None):
        resp = self.req("POST", "/api/v1/carts", token=token)
        assert resp[0] == 201, resp
        assert isinstance(resp[2].get("token"), str) and resp[2]["token"], resp
        return Cart(self, resp[2]["id"], resp[2]["token"], token)

    def order(self, sku, qty=1, token=None, email=None, name="Guest Shopper", key=None):
        """Places a delivery order for `qty` of `sku`; returns the order (asserts 201)."""
        cart = self.new_cart(token)
        cart.add_ok(sku, qty)
        body = {"payment_method": "cash_on_delivery", "address": ADDRESS}
        if token is None or email:
            body["email"] = email or f"{unique('guest')}@example.com"
            body["name"] = name
        resp = cart.checkout(body, key=key)
        assert resp[0] == 201, resp
        return resp[2]

    def transition(self, order_id, to, role="ops", **extra):
        return self.req("POST", f"/api/v1/orders/{order_id}/transitions",
                        json={"to": to, **extra}, token=self.token(role))

    def shipments(self, order_id):
        return self.ok("GET", f"/api/v1/orders/{order_id}/shipments",
                       token=self.token("ops"))["items"]

    def pack(self, order_id, role="ops"):
        """Scans every unit of the order's open shipments; returns its shipments after."""
        for s in self.shipments(order_id):
            if s["status"] != "open":
                continue
            for u in s["units"]:
                for _ in range(u["quantity"] - u["scanned"]):
                    self.ok("POST", f"/api/v1/shipments/{s['id']}/scans", json={"code": u["sku"]},
                            token=self.token(role))
        return self.shipments(order_id)

    def ship(self, order_id, carrier="PosLaju", tracking_number=None):
        """Packs the order and hands each shipment to the carrier; returns the order."""
        for s in self.pack(order_id):
            self.ok("POST", f"/api/v1/shipments/{s['id']}/ship",
                    json={"carrier": carrier, "tracking_number": tracking_number or unique("PL")},
                    token=self.token("ops"))
        return self.get_order(order_id)

    def get_order(self, order_id, role="ops"):
        return self.ok("GET", f"/api/v1/orders/{order_id}", token=self.token(role))


_active = []


def make_server(tmp_root, extra_args=(), staff=True):
    data_dir = tempfile.mkdtemp(prefix="tandem-ft-", dir=tmp_root)
    s = Server(data_dir, extra_args)
    if staff:
        s.add_staff()
    s.start()
    _active.append(s)
    return s


_kept = []  # data folders kept for a look after a failure


def finish_server(s):
    s.stop()
    if s in _active:
        _active.remove(s)
    if s.problems:
        _kept.append(s.data_dir)
        pytest.fail(f"server {s.data_dir}: {'; '.join(s.problems)}\n{s.stderr_tail()}")
    if s.data_dir not in _kept:
        shutil.rmtree(s.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def tmp_root():
    root = tempfile.mkdtemp(prefix="tandem-functional-")
    yield root
    if _kept:
        print(f"\nkept for inspection (failures): {sorted(set(_kept))}")
    else:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def server(tmp_root):
    """A server shared by the tests of one module (tests use their own SKUs and accounts)."""
    s = make_server(tmp_root)
    yield s
    finish_server(s)


@pytest.fixture(scope="module")
def server_factory(tmp_root):
    """Starts extra servers with their own flags; all are stopped at the end of the module."""
    made = []

    def factory(extra_args=(), staff=True):
        s = make_server(tmp_root, extra_args, staff)
        made.append(s)
        return s
    yield factory
    for s in made:
        finish_server(s)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for s in list(_active):
            _kept.append(s.data_dir)
            state = "running" if s.alive() else "NOT RUNNING"
            rep.sections.append((f"tandem stderr tail ({state}, {s.data_dir})",
                                 s.stderr_tail()))
